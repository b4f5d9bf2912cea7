"""`python -m bench.profile_api [sqlite|postgresql] [--profile]`: SQL statements, commits and time
per Get/Execute Runner request through the real routes (Flask's test client, no HTTP server), beside
the bare read+write endpoint; `--profile` adds a pyinstrument profile of the Execute Runner loop."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from app.extensions import db
from app.models import Company
from app.services import tokens
from app.services.runners import create_runner
from bench import bare_app, designs, env
from bench.stats import median

REQUESTS = 300


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """Count statements (by their first words) and commits on every engine while inside."""
    seen: Counter[str] = Counter()

    def statement(conn: Any, cursor: Any, sql: str, *_: Any) -> None:
        seen[" ".join(sql.split()[:3])] += 1
        seen["(statements)"] += 1

    def commit(conn: Any) -> None:
        seen["(commits)"] += 1

    event.listen(Engine, "before_cursor_execute", statement)
    event.listen(Engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", statement)
        event.remove(Engine, "commit", commit)


def measure(calls: dict[str, Callable[[], Any]], n: int = REQUESTS) -> None:
    """Median µs per call of each, interleaved so a busy neighbour slows them alike, then the
    statements and commits one call of each issues."""
    for call in calls.values():
        for _ in range(20):  # warm caches (compiled statements, designs) before timing
            call()
    times: dict[str, list[float]] = {label: [] for label in calls}
    for _ in range(n):
        for label, call in calls.items():
            began = time.perf_counter()
            call()
            times[label].append(time.perf_counter() - began)
    for label, call in calls.items():
        with counting() as seen:
            for _ in range(10):
                call()
        print(f"{label}: {median(times[label]) * 1e6:,.0f} µs/request (median), "
              f"{seen['(statements)'] / 10:.1f} statements, {seen['(commits)'] / 10:.1f} commits")
        for sql, count in seen.most_common():
            if not sql.startswith("("):
                print(f"    {count / 10:5.1f}  {sql}")


def _ok(response: Any) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"{response.status_code}: {response.get_data(as_text=True)[:500]}")


def main() -> None:
    kind = next((a for a in sys.argv[1:] if not a.startswith("-")), "sqlite")
    with env.database(kind) as url:
        app = env.make_app(url)
        with app.app_context():
            actor = env.make_company()
            company = db.session.get(Company, actor.company_id)
            raw = tokens.issue_api_token(actor, company, name="bench", roles=("admin",)).raw
            version = env.make_flow(actor.company_id, designs.self_loop(), "api-loop")
            runner_id = create_runner(actor, design_id=version.id, data={"x": 1}).runner.id
            db.session.remove()
        client = app.test_client()
        auth = {"Authorization": f"Bearer {raw}"}
        go = json.dumps({"action": "go", "data": {}})

        def execute() -> None:
            _ok(client.post(f"/v1/rego/runners/{runner_id}/execute/", data=go, headers=auth,
                            content_type="application/json"))

        def get() -> None:
            _ok(client.get(f"/v1/rego/runners/{runner_id}/", headers=auth))

        bare_app.seed(url, 1)
        bare = bare_app.create(url).test_client()

        def write() -> None:
            _ok(bare.post("/bare/items/0", data="{}"))

        measure({"Execute Runner": execute, "bare read+write": write})
        measure({"Get Runner": get}, n=50)  # its step log grows with every execute above
        if "--profile" in sys.argv:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            with profiler:
                for _ in range(REQUESTS):
                    execute()
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
