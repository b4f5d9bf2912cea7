"""The Celery executor: a runner's whole automatic stretch is one task on a real Redis broker."""

from __future__ import annotations

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_prerun

from app import create_app
from app.extensions import db
from app.models import Company
from app.services import runners
from tests.effects.stub_server import StubResponse, StubServer
from tests.runners.conftest import form_design

pytestmark = pytest.mark.redis


def automatic_stretch(url: str) -> dict:
    """After the form: three api_calls and a transform in a row, no waits between them."""
    calls = [{"name": f"call{i}", "type": "api_call",
              "config": {"method": "get", "url": url, "response_map": {f"r{i}": "body.n"}},
              "edges": [{"type": "goto", "target_node": f"call{i + 1}" if i < 3 else "sum"}]}
             for i in (1, 2, 3)]
    total = {"name": "sum", "type": "transform",
             "config": {"transformer": "template", "data": {"total": "${store.r1 + store.r2 + store.r3}"}},
             "edges": [{"type": "goto", "target_node": "done"}]}
    return form_design(first_target="call1", after=[*calls, total])


def test_whole_stretch_runs_as_one_task(database_url, require_redis, make_flow, officer):
    celery_app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                             "SECRET_KEY": "x" * 40, "FLOWDESK_EXECUTOR": "celery",
                             "REDIS_URL": require_redis,
                             "FLOWDESK_OUTBOUND_ALLOW_NETWORKS": "127.0.0.1/32"})
    from app.executors.celery import celery_app as queue

    # A queue of this run's own, so another run sharing the Redis server cannot take our tasks.
    queue.conf.task_default_queue = f"flowdesk-test-{uuid.uuid4().hex[:8]}"

    tasks: list[str] = []

    def count(sender=None, task_id=None, task=None, args=None, **_):
        tasks.append(task.name)

    task_prerun.connect(count, weak=False)
    with StubServer() as stub, celery_app.app_context():
        stub.enqueue("/n", StubResponse(200, {"n": 1}), StubResponse(200, {"n": 2}),
                     StubResponse(200, {"n": 3}))
        stub_url = stub.url("/n")
        flow, _ = make_flow(automatic_stretch(stub_url))
        actor = officer(db.session.get(Company, flow.company_id))
        with start_worker(queue, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            runner = runners.create_runner(actor, flow_id=flow.id).runner
            # Returns once the task is queued; the worker may or may not have finished yet.
            runners.execute_runner(actor, runner.id, action="submit", data={"name": "A", "amount": 1})
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                db.session.expire_all()
                if runners.get_runner(actor, runner.id).status == "succeeded":
                    break
                time.sleep(0.1)
        db.session.expire_all()
        final = runners.get_runner(actor, runner.id)
        assert final.status == "succeeded"
    task_prerun.disconnect(count)
    drains = [name for name in tasks if name == "flowdesk.drain_runner"]
    assert len(drains) == 1  # one task for the whole 3-call stretch (create queued nothing)
    assert len(stub.requests_to("/n")) == 3
