"""Executors run a runner's due automatic work: inline (in-process, default) or on Celery workers.

The rule of both: a runner's whole automatic stretch is one unit of work (one call, one task), not
one task per node.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from flask import Flask, current_app

log = logging.getLogger(__name__)


class Executor(Protocol):
    def dispatch(self, *runner_ids: str) -> None: ...


class InlineExecutor:
    """Performs the runner's due work before the request returns (and `flask worker` fires timers)."""

    def dispatch(self, *runner_ids: str) -> None:
        from app.services.work import drain

        drain(list(runner_ids))


def start_ticker(app: Flask, interval: float = 1.0) -> threading.Thread:
    """A daemon thread that fires due timers and retries, so `make run` needs no separate worker."""
    from app.services.work import fire_due

    def tick() -> None:
        while True:
            try:
                with app.app_context():
                    fire_due()
            except Exception:  # keep ticking; the failure is logged with its traceback
                log.exception("inline ticker pass failed")
            time.sleep(interval)

    thread = threading.Thread(target=tick, name="flowdesk-ticker", daemon=True)
    thread.start()
    return thread


def init_executor(app: Flask) -> None:
    if app.config.get("FLOWDESK_EXECUTOR") == "celery":
        from app.executors.celery import CeleryExecutor

        app.extensions["flowdesk.executor"] = CeleryExecutor(app)
    else:
        app.extensions["flowdesk.executor"] = InlineExecutor()
    if app.config.get("FLOWDESK_INLINE_TICKER"):
        start_ticker(app)


def dispatch(*runner_ids: str) -> None:
    """Hand these runners' due work to the configured executor."""
    current_app.extensions["flowdesk.executor"].dispatch(*runner_ids)
