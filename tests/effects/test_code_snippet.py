"""The code-snippet sandbox: results, friendly errors, escape attempts and what the OS wall holds."""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.effects import code_snippet
from app.effects.code_snippet import (
    SnippetError,
    SnippetLimits,
    isolation_level,
    lint_snippet,
    run_snippet,
)

SMALL = SnippetLimits(timeout_s=1.0, cpu_s=2, memory_mb=128, output_kb=16, input_kb=64)
PROJECT_FILE = Path(code_snippet.__file__).resolve()
SECRET = "s3cr3t-do-not-leak-7d41"
BWRAP = isolation_level().startswith("bubblewrap")
needs_bwrap = pytest.mark.skipif(not BWRAP, reason="bubblewrap is not usable on this host")


def snippet(body: str) -> str:
    return textwrap.dedent(body).strip() + "\n"


def fail(code: str, limits: SnippetLimits = SMALL) -> tuple[SnippetError, float]:
    started = time.monotonic()
    with pytest.raises(SnippetError) as caught:
        run_snippet(code, {}, {}, limits=limits)
    return caught.value, time.monotonic() - started


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited while we looked
        # Fields after the ")" that closes the command name: state, ppid, pgrp, ...
        if int(stat.rpartition(")")[2].split()[2]) == pgid:
            members.append(int(entry.name))
    return members


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Pids of every sandbox leader started during the test (each is its group's id)."""
    pids: list[int] = []
    real_popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        pids.append(proc.pid)
        return proc

    monkeypatch.setattr(code_snippet.subprocess, "Popen", recording_popen)
    yield pids


@pytest.fixture
def process_level(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend bubblewrap is unusable, as on hosts without user namespaces."""
    monkeypatch.setattr(code_snippet.shutil, "which", lambda *_a, **_k: None)
    monkeypatch.setattr(code_snippet.os, "geteuid", lambda: 1000)
    sandbox = code_snippet._detect.__wrapped__()
    monkeypatch.setattr(code_snippet, "_detect", lambda: sandbox)


# --- ordinary runs ---------------------------------------------------------------------------


def test_main_result_is_returned_for_merging_into_the_store() -> None:
    code = snippet("""
        import math
        def main(data, store):
            store["seen"] = True  # a copy: the runner merges only what main returns
            return {"monthly": round(data["amount"] / store["months"], 2), "root": math.isqrt(17)}
    """)
    store = {"months": 12}
    result = run_snippet(code, {"amount": 1200.0}, store, limits=SMALL)
    assert result == {"monthly": 100.0, "root": 4}
    assert store == {"months": 12}


def test_allowed_stdlib_and_classes_work() -> None:
    code = snippet("""
        import collections.abc, datetime, hashlib, json
        from decimal import Decimal
        class Box:
            def __init__(self, v):
                self.v = v
        def main(data, store):
            print("printing is fine within the cap")
            return {
                "mapping": isinstance(data, collections.abc.Mapping),
                "day": datetime.date(2024, 2, 29).isoformat(),
                "sha": hashlib.sha256(b"x").hexdigest()[:8],
                "rate": str(Decimal("0.1") + Decimal("0.2")),
                "box": Box(json.loads("[1, 2]")).v,
            }
    """)
    assert run_snippet(code, {}, {}, limits=SMALL) == {
        "mapping": True, "day": "2024-02-29", "sha": "2d711642", "rate": "0.3", "box": [1, 2],
    }


def test_syntax_error_names_the_line() -> None:
    error, _ = fail("def main(data, store):\n    return {\n")
    assert error.kind == "syntax"
    assert "line 2" in error.message


def test_exception_shows_type_message_and_line() -> None:
    code = snippet("""
        def main(data, store):
            rate = data.get("rate", 0)
            return {"x": 1 / rate}
    """)
    error, _ = fail(code)
    assert error.kind == "exception"
    assert error.message == "ZeroDivisionError: division by zero (line 3)"


def test_result_must_be_a_dict() -> None:
    error, _ = fail("def main(data, store):\n    return [1, 2]\n")
    assert error.kind == "bad_result"
    assert "list" in error.message


def test_result_must_be_json() -> None:
    error, _ = fail("def main(data, store):\n    return {'s': {1, 2}}\n")
    assert error.kind == "bad_result"


def test_missing_main_is_reported() -> None:
    error, _ = fail("def handler(data, store):\n    return {}\n")
    assert "main(data, store)" in error.message


def test_oversized_or_non_json_input_is_refused_before_starting() -> None:
    with pytest.raises(SnippetError) as big:
        run_snippet("def main(data, store):\n    return {}\n", {"blob": "x" * 70_000}, {},
                    limits=SMALL)
    assert big.value.kind == "sandbox"
    with pytest.raises(SnippetError) as odd:
        run_snippet("def main(data, store):\n    return {}\n", {"when": object()}, {}, limits=SMALL)
    assert odd.value.kind == "sandbox"


# --- escape attempts: each is a clean node error within its limits ----------------------------

ESCAPES = {
    "import os": ("import os\ndef main(data, store):\n    return {}\n", "forbidden"),
    "__import__": ("def main(data, store):\n    __import__('subprocess')\n", "forbidden"),
    "dunder walk": (
        "def main(data, store):\n    return {'n': len(().__class__.__mro__[1].__subclasses__())}\n",
        "forbidden",
    ),
    "getattr walk": (
        "def main(data, store):\n    return {'c': str(getattr((), '__cl' + 'ass__'))}\n",
        "forbidden",
    ),
    "frame walk": (
        "def main(data, store):\n    g = (i for i in [1])\n    return {'f': str(g.gi_frame)}\n",
        "forbidden",
    ),
    "match-class walk": (
        "def main(data, store):\n    match ():\n        case object(__class__=c):\n"
        "            return {'c': str(c)}\n",
        "forbidden",
    ),
    "read /etc/passwd": (
        "def main(data, store):\n    return {'p': open('/etc/passwd').read()}\n", "forbidden",
    ),
    "read project file": (
        f"def main(data, store):\n    return {{'p': open({str(PROJECT_FILE)!r}).read()}}\n",
        "forbidden",
    ),
    "socket": (
        "import socket\ndef main(data, store):\n"
        "    socket.create_connection(('127.0.0.1', 80))\n    return {}\n",
        "forbidden",
    ),
    "fork bomb": (
        "def main(data, store):\n    import os\n    while True:\n        os.fork()\n", "forbidden",
    ),
    "module leaks sys": (
        "import datetime\ndef main(data, store):\n    return {'m': str(datetime.sys.modules)}\n",
        "exception",
    ),
    "attrgetter": (
        "import operator\ndef main(data, store):\n"
        "    return {'c': str(operator.attrgetter('__class__')(()))}\n",
        "exception",
    ),
    "memory bomb": ("def main(data, store):\n    return {'x': 'x' * 10**10}\n", "memory"),
    "growing memory": (
        "def main(data, store):\n    keep = []\n    while True:\n"
        "        keep.append(bytearray(10**6))\n",
        "memory",
    ),
    "infinite loop": ("def main(data, store):\n    while True:\n        pass\n", "timeout"),
    "print flood": ("def main(data, store):\n    while True:\n        print('x' * 100)\n", "output"),
    "caught print flood": (
        "def main(data, store):\n    for _ in range(1000):\n        try:\n"
        "            print('x' * 100)\n        except Exception:\n            pass\n    return {}\n",
        "output",
    ),
    "huge return": ("def main(data, store):\n    return {'x': 'y' * 10**6}\n", "output"),
}


@pytest.mark.parametrize("name", ESCAPES)
def test_escape_attempt_ends_as_a_clean_node_error(name: str, spawned: list[int]) -> None:
    code, kind = ESCAPES[name]
    # Only the infinite loop is about the clock: the others get room, so that a loaded machine
    # (the sandbox's start counts against the timeout) cannot turn a memory stop into a timeout.
    limits = SMALL if kind == "timeout" else SnippetLimits(
        timeout_s=5.0, cpu_s=5, memory_mb=SMALL.memory_mb, output_kb=SMALL.output_kb,
        input_kb=SMALL.input_kb)
    error, took = fail(code, limits)
    assert error.kind == kind, error.message
    assert took < limits.timeout_s + 2
    assert spawned
    assert all(group_members(pid) == [] for pid in spawned)


def test_cpu_limit_stops_a_loop_before_the_wall_clock() -> None:
    limits = SnippetLimits(timeout_s=10.0, cpu_s=1, memory_mb=128)
    error, took = fail("def main(data, store):\n    while True:\n        pass\n", limits)
    assert error.kind == "timeout"
    assert "CPU" in error.message
    assert took < 4


def test_timeout_kills_the_process_group(spawned: list[int]) -> None:
    error, took = fail("def main(data, store):\n    while True:\n        pass\n")
    assert error.kind == "timeout"
    assert took < SMALL.timeout_s + 2
    assert [group_members(pid) for pid in spawned] == [[]]


def test_child_runs_under_the_configured_rlimits(spawned: list[int]) -> None:
    limits = SnippetLimits(timeout_s=3.0, cpu_s=3, memory_mb=96, max_files=9, file_size_kb=5)
    worker = threading.Thread(target=lambda: fail(ESCAPES["infinite loop"][0], limits))
    worker.start()
    seen: dict[str, str] = {}
    deadline = time.monotonic() + 2
    while not seen and time.monotonic() < deadline:
        for pid in [m for leader in spawned for m in group_members(leader)]:
            try:
                text = Path(f"/proc/{pid}/limits").read_text()
            except OSError:
                continue
            parsed = {line[:26].strip(): line[26:].split()[0] for line in text.splitlines()[1:]}
            if parsed["Max processes"] == "0":  # the bootstrap sets this one last
                seen = parsed
        time.sleep(0.05)
    worker.join()
    assert seen["Max cpu time"] == "3"
    assert seen["Max address space"] == str(96 * 1024 * 1024)
    assert seen["Max open files"] == "9"
    assert seen["Max file size"] == str(5 * 1024)
    assert seen["Max core file size"] == "0"


def test_errors_survive_pickling_for_task_queues() -> None:
    error, _ = fail(ESCAPES["import os"][0])
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301  our own bytes
    assert (copy.kind, copy.message) == ("forbidden", error.message)


def test_secrets_in_the_parent_environment_do_not_reach_the_snippet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLOWDESK_TEST_SECRET", SECRET)
    for attempt in (
        "import os\ndef main(data, store):\n    return dict(os.environ)\n",
        "def main(data, store):\n    return {'e': open('/proc/self/environ').read()}\n",
        "def main(data, store):\n    return {'e': open('/proc/1/environ').read()}\n",
        f"def main(data, store):\n    return {{'e': open('/proc/{os.getpid()}/environ').read()}}\n",
    ):
        error, _ = fail(attempt)
        assert error.kind == "forbidden"
        assert SECRET not in error.message


def test_the_app_keeps_serving_during_and_after_bombs() -> None:
    bombs = [ESCAPES[name][0] for name in ("infinite loop", "memory bomb", "print flood")]
    errors: list[str] = []

    def run_bomb(code: str) -> None:
        try:
            run_snippet(code, {}, {}, limits=SMALL)
        except SnippetError as exc:
            errors.append(exc.kind)

    threads = [threading.Thread(target=run_bomb, args=(code,)) for code in bombs]
    for thread in threads:
        thread.start()
    ok = run_snippet("def main(data, store):\n    return {'ok': data['n']}\n", {"n": 7}, {},
                     limits=SMALL)
    for thread in threads:
        thread.join(timeout=SMALL.timeout_s + 5)
    assert ok == {"ok": 7}
    assert sorted(errors) == ["memory", "output", "timeout"]


# --- the OS wall itself, with the in-child guards bypassed ------------------------------------


def raw(script: str, limits: SnippetLimits = SMALL) -> str:
    """Run arbitrary Python in the active sandbox, as a guard bypass would."""
    sandbox = code_snippet._detect()
    argv = [*sandbox.prefix, sys.executable, "-I", "-S", "-c", textwrap.dedent(script)]
    outcome = code_snippet._exchange(sandbox, argv, b"", limits)
    assert outcome.returncode == 0, outcome.stderr
    return outcome.stdout.decode()


@needs_bwrap
def test_wall_keeps_parent_secrets_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWDESK_TEST_SECRET", SECRET)
    seen = raw(f"""
        import os
        found = [repr(dict(os.environ))]
        for pid in ["self", "1", str(os.getppid()), "{os.getpid()}"] + os.listdir("/proc"):
            try:
                found.append(open(f"/proc/{{pid}}/environ", "rb").read().decode())
            except OSError as exc:
                found.append(type(exc).__name__)
        print(found)
    """)
    assert "FLOWDESK_TEST_SECRET" not in seen
    assert SECRET not in seen


@needs_bwrap
def test_wall_hides_files_blocks_writes_network_and_new_processes() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    try:
        seen = raw(f"""
            import os, socket
            def attempt(action):
                try:
                    action()
                    return "allowed"
                except OSError as exc:
                    return type(exc).__name__
            print(attempt(lambda: open({str(PROJECT_FILE)!r}).read()))
            print(attempt(lambda: open("/etc/passwd").read()))
            print(attempt(lambda: open("/written", "w").write("x")))
            print(attempt(lambda: socket.create_connection(("127.0.0.1", {port}), timeout=0.5)))
            print(attempt(os.fork))
            print(os.getuid())
        """)
    finally:
        listener.close()
    assert seen.split() == [
        "FileNotFoundError", "FileNotFoundError", "OSError", "ConnectionRefusedError",
        "PermissionError", "65534",
    ]


# --- levels and lint -------------------------------------------------------------------------


def test_without_bubblewrap_the_process_level_is_reported_and_still_works(
    process_level: None, spawned: list[int]
) -> None:
    assert code_snippet._detect().label == "process (rlimits, empty env)"
    assert run_snippet("def main(data, store):\n    return {'a': 1}\n", {}, {}, limits=SMALL) == {
        "a": 1
    }
    error, took = fail(ESCAPES["infinite loop"][0])
    assert error.kind == "timeout"
    assert took < SMALL.timeout_s + 2
    error, _ = fail(ESCAPES["import os"][0])
    assert error.kind == "forbidden"
    assert all(group_members(pid) == [] for pid in spawned)


def test_process_level_child_sees_an_empty_environment(
    process_level: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWDESK_TEST_SECRET", SECRET)
    seen = raw("""
        import os
        print(dict(os.environ), open("/proc/self/environ", "rb").read())
    """)
    assert SECRET not in seen


def test_lint_reports_friendly_problems() -> None:
    assert lint_snippet("def main(data, store):\n    return {}\n") == []
    assert lint_snippet("def main(data, store)\n    return {}\n") == [
        "SyntaxError: expected ':' (line 1)"
    ]
    problems = lint_snippet("import os\nfrom subprocess import run\nx = ().__class__\n")
    assert problems == [
        "import of 'os' is not allowed (line 1)",
        "import from 'subprocess' is not allowed (line 2)",
        "attribute '__class__' is not allowed (line 3)",
        "the snippet must define main(data, store) at top level",
    ]
