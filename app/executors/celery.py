"""The Celery executor: one task drains one runner's automatic stretch on a worker."""

from __future__ import annotations

from celery import Celery
from flask import Flask

celery_app = Celery("flowdesk")


def init_celery(app: Flask) -> Celery:
    """Bind the Celery app to Flask's settings; each task runs inside an app context."""
    celery_app.conf.update(broker_url=app.config["REDIS_URL"], result_backend=None,
                           task_ignore_result=True, task_acks_late=True,
                           worker_prefetch_multiplier=1, broker_connection_retry_on_startup=True)

    class AppContextTask(celery_app.Task):  # type: ignore[name-defined, misc]
        def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app.Task = AppContextTask
    return celery_app


@celery_app.task(name="flowdesk.drain_runner")
def drain_runner(runner_id: str) -> int:
    from app.services.work import drain

    return drain([runner_id])


class CeleryExecutor:
    def __init__(self, app: Flask) -> None:
        init_celery(app)

    def dispatch(self, *runner_ids: str) -> None:
        for runner_id in runner_ids:
            drain_runner.delay(runner_id)
