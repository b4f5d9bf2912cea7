"""API under load: gunicorn (2 sync workers) on loopback, a bounded threaded load generator."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from app.extensions import db
from app.models import Company
from app.services import tokens
from app.services.principal import Principal
from app.services.runners import create_runner, execute_runner
from bench import bare_app, designs, env
from bench.stats import Figure, median, percentile
from bench.wsgi_flowdesk import real_routes

CONCURRENCY = (1, 8, 32)
READ_HISTORY = 20  # actions taken by each runner Get Runner reads: a runner some way along its flow
WINDOW = 0.6  # seconds per round of one cell
MAX_REQUESTS = 4000  # per round: the generator is bounded in time and in count
MIN_ROUNDS = 5  # rounds are short; more of them steady the medians
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Cell:
    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


@dataclass(frozen=True)
class Target:
    label: str
    port: int
    method: str
    paths: list[str]  # one per client thread, so writers never contend for one row
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(module: str, url: str, probe: str) -> Iterator[int]:
    """`module:app` under gunicorn, 2 sync workers on 127.0.0.1, once GET `probe` answers 200;
    stopped (only it) on exit."""
    port = _free_port()
    command = [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}",
               "--workers", "2", "--worker-class", "sync", "--log-level", "warning", f"{module}:app"]
    process = subprocess.Popen(  # noqa: S603  our venv's gunicorn with fixed arguments
        command, cwd=ROOT, env={**os.environ, "BENCH_DATABASE_URL": url},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_ready(port, process, probe)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(port: int, process: subprocess.Popen[bytes], probe: str) -> None:
    """Until the app answers, not just the socket: gunicorn's master listens before its workers
    have imported the app, and a first request would otherwise wait seconds inside a round."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}"
                               if process.stderr else "gunicorn exited")
        try:
            if _request(Target("probe", port, "GET", [probe]), probe) == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not start in 30 s")


def _request(target: Target, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=30)
    try:
        conn.request(target.method, path, body=target.body,
                     headers={"Content-Type": "application/json", **target.headers})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def load(target: Target, concurrency: int, cell: Cell) -> None:
    """One round: `concurrency` threads send requests until WINDOW passes or MAX_REQUESTS are sent."""
    lock, sent = threading.Lock(), [0]
    latencies: list[float] = []
    errors = [0]
    stop_at = time.perf_counter() + WINDOW

    def client(path: str) -> None:
        while time.perf_counter() < stop_at:
            with lock:
                if sent[0] >= MAX_REQUESTS:
                    return
                sent[0] += 1
            began = time.perf_counter()
            status = _request(target, path)
            took = time.perf_counter() - began
            with lock:
                latencies.append(took * 1000)
                errors[0] += status != 200

    threads = [threading.Thread(target=client, args=(target.paths[i % len(target.paths)],))
               for i in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cell.rates.append(len(latencies) / (time.perf_counter() - began))
    cell.latencies.extend(latencies)
    cell.errors += errors[0]


def run(kind: str = "sqlite", rounds: int = 3) -> tuple[list[Figure], list[str]]:
    notes: list[str] = []
    with env.database(kind) as url:
        app = env.make_app(url)
        with app.app_context():
            actor = env.make_company()
            company = db.session.get(Company, actor.company_id)
            raw = tokens.issue_api_token(actor, company, name="bench", roles=("admin",)).raw
            version = env.make_flow(actor.company_id, designs.self_loop(), "api-loop")
            runners = [create_runner(actor, design_id=version.id, data={"x": 1}).runner.id
                       for _ in range(max(CONCURRENCY))]
            # Get Runner reads runners of their own, which Execute never moves: their history stays
            # READ_HISTORY actions long, so every round and concurrency reads the same answer.
            readers = [_with_history(actor, version.id) for _ in range(max(CONCURRENCY))]
            routes = real_routes(app)
            db.session.remove()
            db.engine.dispose()
        bare_app.seed(url, max(CONCURRENCY))
        prefix = {True: "/v1/rego/runners", False: "/bench/runners"}
        for name, present in routes.items():
            if not present:
                notes.append(f"The real {'Get' if name == 'get' else 'Execute'} Runner route is "
                             f"not in the app yet: measured a stand-in route calling the same "
                             f"service behind the same token auth (bench/wsgi_flowdesk.py).")
        auth = {"Authorization": f"Bearer {raw}"}
        go = json.dumps({"action": "go", "data": {}}).encode()
        figures: list[Figure] = []
        with (gunicorn("bench.wsgi_flowdesk", url, "/healthz") as flowdesk,
              gunicorn("bench.bare_app", url, "/bare/items/0") as bare):
            targets = [
                Target("Get Runner", flowdesk, "GET",
                       [f"{prefix[routes['get']]}/{r}/" for r in readers], headers=auth),
                Target("Execute Runner (one step)", flowdesk, "POST",
                       [f"{prefix[routes['execute']]}/{r}/execute/" for r in runners], go, auth),
                Target("bare Flask-SQLAlchemy read", bare, "GET",
                       [f"/bare/items/{i}" for i in range(len(runners))]),
                Target("bare Flask-SQLAlchemy read+write", bare, "POST",
                       [f"/bare/items/{i}" for i in range(len(runners))], b"{}"),
            ]
            for target in targets:
                load(target, 2, Cell())  # warm both workers: connections, caches, compiled SQL
            for concurrency in CONCURRENCY:
                cells = {target.label: Cell() for target in targets}
                # Round-robin, not target after target: the machine is shared, and a busy spell
                # then slows every target a little rather than one target a lot.
                for _ in range(max(rounds, MIN_ROUNDS)):
                    for target in targets:
                        load(target, concurrency, cells[target.label])
                figures += [figure for target in targets
                            for figure in _figures(kind, target.label, concurrency,
                                                   cells[target.label])]
        return figures, notes


def _with_history(actor: Principal, design_id: str) -> str:
    runner = create_runner(actor, design_id=design_id, data={"x": 1}).runner.id
    for _ in range(READ_HISTORY):
        execute_runner(actor, runner, action="go", data={})
    return runner


def _figures(kind: str, label: str, concurrency: int, cell: Cell) -> list[Figure]:
    section, case = f"API ({kind}, gunicorn 2 sync workers)", f"{label}, c={concurrency}"
    note = f"{cell.errors} non-200 answers" if cell.errors else ""
    return [Figure(section, case, "req/s", median(cell.rates), machine=True, note=note),
            Figure(section, case, "ms p50", percentile(cell.latencies, 0.5), machine=True),
            Figure(section, case, "ms p99", percentile(cell.latencies, 0.99), machine=True)]
