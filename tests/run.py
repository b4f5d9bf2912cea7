"""`make test`: lint, then the suite on SQLite, then again on PostgreSQL when it is reachable.

FLOWDESK_REQUIRE_SERVICES=1 (set by CI) turns a missing PostgreSQL into a failure instead of a skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# Database-independent tests (pure engine, effect performers, browser) run once, on the SQLite pass.
DB_INDEPENDENT = ["--ignore=tests/engine", "--ignore=tests/effects", "-m", "not browser"]


def run(cmd: list[str], env: dict[str, str] | None = None) -> int:
    print(f"\n$ {' '.join(cmd)}", flush=True)
    return subprocess.call(cmd, cwd=ROOT, env=env)


def pytest_pass(label: str, extra: list[str], env: dict[str, str]) -> tuple[int, dict[str, int]]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        code = run([str(BIN / "python"), "-m", "pytest", "tests", f"--junitxml={report}", *extra,
                    *sys.argv[1:]], env)
        counts = {"passed": 0, "failed": 0, "skipped": 0}
        if report.exists():
            suite = ET.parse(report).getroot()  # noqa: S314  our own file
            suite = suite if suite.tag == "testsuite" else suite[0]
            total = int(suite.get("tests", 0))
            failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skipped = int(suite.get("skipped", 0))
            counts = {"passed": total - failed - skipped, "failed": failed, "skipped": skipped}
    print(f"[{label}] {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return code, counts


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.databases import LOCAL_POSTGRES, postgres_admin_url, postgres_reachable, redact

    failures = 0
    failures += run([str(BIN / "ruff"), "check", "."]) != 0
    base_env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    code, total = pytest_pass("sqlite", [], base_env)
    failures += code != 0

    pg_url = postgres_admin_url() or LOCAL_POSTGRES
    if postgres_reachable(pg_url):
        code, counts = pytest_pass("postgresql", DB_INDEPENDENT, {**base_env, "TEST_DATABASE_URL": pg_url})
        failures += code != 0
        total = {key: total[key] + counts[key] for key in total}
    elif os.environ.get("FLOWDESK_REQUIRE_SERVICES") == "1":
        print(f"PostgreSQL is not reachable at {redact(pg_url)} and FLOWDESK_REQUIRE_SERVICES=1.")
        failures += 1
    else:
        print(f"Skipping the PostgreSQL pass: nothing answers at {redact(pg_url)}.")

    print(f"\nall: {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
