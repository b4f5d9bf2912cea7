"""Celery + Redis: a runner's whole automatic stretch (10 api_calls) must be one task, not ten."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench import designs, env
from bench.stats import Figure

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
CALLS = 10


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:  # quiet
        pass


@contextmanager
def stub_server() -> Iterator[str]:
    """A loopback HTTP server answering 200 to every GET, for the api_call nodes."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/ok"
    finally:
        server.shutdown()
        server.server_close()


def redis_reachable() -> bool:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        return True
    except redis.RedisError:
        return False


def run() -> tuple[list[Figure], list[str]]:
    if not redis_reachable():
        return [], [f"Celery check skipped: Redis is not reachable at {REDIS_URL}."]
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_prerun

    from app.executors.celery import celery_app
    from app.extensions import db
    from app.services.runners import create_runner, execute_runner

    tasks: list[str] = []

    def count(sender: Any = None, task: Any = None, **_: Any) -> None:
        tasks.append(task.name)

    with env.database("sqlite") as url, stub_server() as stub:
        app = env.make_app(url, FLOWDESK_EXECUTOR="celery", REDIS_URL=REDIS_URL,
                           FLOWDESK_OUTBOUND_ALLOW_NETWORKS="127.0.0.1/32")
        # A queue of our own on the shared broker: nobody else's worker takes our tasks.
        celery_app.conf.task_default_queue = f"flowdesk-bench-{uuid.uuid4().hex[:8]}"
        task_prerun.connect(count, weak=False)
        try:
            with app.app_context():
                actor = env.make_company()
                version = env.make_flow(actor.company_id, designs.http_stretch(CALLS, stub), "calls")
                with start_worker(celery_app, pool="solo", perform_ping_check=False,
                                  shutdown_timeout=10):
                    # Creation queues no work (the runner waits at the gate), so it sends no task.
                    runner_id = create_runner(actor, design_id=version.id, data={"x": 1}).runner.id
                    _settle(runner_id, lambda: _at_gate(runner_id))
                    before = len(tasks)
                    began = time.perf_counter()
                    execute_runner(actor, runner_id, action="go", data={})
                    elapsed = _settle(runner_id, lambda: _at_gate(runner_id)) - began
                    time.sleep(0.3)  # a stray extra task would show up here
                    stretch_tasks = len(tasks) - before
                db.session.remove()
                db.engine.dispose()
        finally:
            task_prerun.disconnect(count)
    return [Figure("Celery + Redis", f"tasks for one {CALLS}-api_call stretch", "tasks",
                   stretch_tasks),
            Figure("Celery + Redis", f"execute -> back at the gate after {CALLS} api_calls", "ms",
                   elapsed * 1000, machine=True, note="includes the loopback HTTP calls")], []


def _at_gate(runner_id: str) -> bool:
    from app.extensions import db
    from app.models import Runner

    db.session.expire_all()
    runner = db.session.get(Runner, runner_id)
    return runner is not None and runner.status == "waiting" and runner.current_nodes == ["gate"]


def _settle(runner_id: str, done: Any, timeout: float = 30) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return time.perf_counter()
        time.sleep(0.01)
    raise RuntimeError(f"runner {runner_id} did not settle in {timeout} s")
