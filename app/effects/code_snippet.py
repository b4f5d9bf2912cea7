"""Run a code_snippet node's admin-written main(data, store) in a throwaway, locked-down process."""

# The boundary is the OS, not Python: a fresh `python -I -S` per run with an empty environment,
# rlimits, its own process group killed on timeout and, where the host allows it, bubblewrap
# (own user/pid/net/ipc namespaces, read-only binds of the interpreter only, no new processes).
# The child's import allowlist and attribute ban only turn common mistakes into friendly errors.
from __future__ import annotations

import contextlib
import functools
import json
import os
import platform
import selectors
import shutil
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from app.effects._snippet_child import find_problems

ErrorKind = Literal[
    "syntax", "exception", "timeout", "memory", "output", "forbidden", "bad_result", "sandbox"
]
_CHILD_SOURCE = Path(__file__).with_name("_snippet_child.py")
_CHILD_IN_SANDBOX = "/flowdesk/snippet_child.py"
_NOBODY = 65534
_PROBE_SNIPPET = "def main(data, store):\n    return {'probe': True}\n"
_PROBE_TIMEOUT_S = 10.0
_SECCOMP_FD = "{seccomp_fd}"  # placeholder in the bwrap argv, replaced per run
_ENVELOPE_SLACK = 4096  # room for the {"ok": ...} wrapper around a result at the cap


@dataclass(frozen=True)
class SnippetLimits:
    """Per-run ceilings; the wall-clock timeout also covers interpreter start-up."""

    timeout_s: float = 5.0
    cpu_s: int = 5
    memory_mb: int = 256
    output_kb: int = 256
    input_kb: int = 1024
    max_files: int = 32
    file_size_kb: int = 64


class SnippetError(Exception):
    """The node's error: the snippet failed, broke a rule or a limit, or the sandbox did."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message

    def __reduce__(self) -> tuple[type[SnippetError], tuple[ErrorKind, str]]:
        # Task queues pickle a worker's exceptions; the default would lose `kind`.
        return (type(self), (self.kind, self.message))


@dataclass(frozen=True)
class _Sandbox:
    label: str
    prefix: tuple[str, ...]  # argv placed before the interpreter's own
    child_path: str  # where the bootstrap is, as the child sees it
    user: int | None = None  # uid/gid to drop to before exec (process level only)
    seccomp: bytes | None = None  # BPF program handed to bwrap


def lint_snippet(code: str) -> list[str]:
    """Friendly early problems for the design screen; an empty list does not mean safe."""
    return [message for _kind, message in find_problems(code)]


def isolation_level() -> str:
    """Which isolation this host gives snippets, for the admin page (probed once per process)."""
    return _detect().label


def run_snippet(
    code: str, data: dict, store: dict, *, limits: SnippetLimits | None = None
) -> dict:
    """Run `main(data, store)` in a fresh sandboxed process and return the dict it returned.

    The caller merges the result into the runner's store; `store` itself is passed as a copy.
    Every failure, including the sandbox's own, is raised as SnippetError.
    """
    limits = limits or SnippetLimits()
    try:
        size = len(json.dumps([code, data, store]).encode())
    except (TypeError, ValueError) as exc:
        raise SnippetError("sandbox", f"data and store must be JSON: {exc}") from exc
    if size > limits.input_kb * 1024:
        raise SnippetError("sandbox", f"code, data and store exceed the {limits.input_kb} KB limit")
    return _run(_detect(), code, data, store, limits)


def _run(sandbox: _Sandbox, code: str, data: dict, store: dict, limits: SnippetLimits) -> dict:
    payload = json.dumps({"code": code, "data": data, "store": store}).encode()
    # -I: no environment variables, no user site, no script dir on sys.path; -S: no site.py,
    # so no .pth files from the venv run and no site-packages are importable.
    argv = [*sandbox.prefix, sys.executable, "-I", "-S", sandbox.child_path,
            str(limits.cpu_s), str(limits.memory_mb), str(limits.file_size_kb),
            str(limits.max_files), str(limits.output_kb * 1024)]
    return _interpret(_exchange(sandbox, argv, payload, limits), limits)


@dataclass
class _Outcome:
    stdout: bytes
    stderr: bytes
    returncode: int | None
    timed_out: bool = False
    overflowed: bool = False


def _exchange(
    sandbox: _Sandbox, argv: list[str], payload: bytes, limits: SnippetLimits
) -> _Outcome:
    """Feed payload, collect capped stdout/stderr, and leave no process of the group behind."""
    seccomp_fd = _seccomp_pipe(sandbox.seccomp)
    argv = [str(seccomp_fd) if arg == _SECCOMP_FD else arg for arg in argv]
    try:
        proc = subprocess.Popen(  # noqa: S603  argv is ours; the snippet travels on stdin
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={}, cwd="/", close_fds=True, start_new_session=True,
            pass_fds=() if seccomp_fd is None else (seccomp_fd,),
            user=sandbox.user, group=sandbox.user,
            extra_groups=None if sandbox.user is None else [],
        )
    except OSError as exc:
        raise SnippetError("sandbox", f"could not start the sandbox: {exc.strerror}") from exc
    finally:
        if seccomp_fd is not None:
            os.close(seccomp_fd)
    deadline = time.monotonic() + limits.timeout_s
    try:
        outcome = _pump(proc, payload, limits.output_kb * 1024 + _ENVELOPE_SLACK, deadline)
        if not (outcome.timed_out or outcome.overflowed):
            outcome.timed_out = not _exited(proc, deadline)
    finally:
        _kill_group(proc)
    outcome.returncode = proc.returncode
    return outcome


def _pump(proc: subprocess.Popen, payload: bytes, cap: int, deadline: float) -> _Outcome:
    """Write stdin and read stdout/stderr together until both close, the cap or the deadline."""
    assert proc.stdin and proc.stdout and proc.stderr  # noqa: S101  all three are PIPE above
    out_fd = proc.stdout.fileno()
    chunks: dict[int, list[bytes]] = {out_fd: [], proc.stderr.fileno(): []}
    sizes = dict.fromkeys(chunks, 0)
    outcome = _Outcome(b"", b"", None)
    sent = 0
    with selectors.DefaultSelector() as sel:
        os.set_blocking(proc.stdin.fileno(), False)
        sel.register(proc.stdin, selectors.EVENT_WRITE)
        sel.register(proc.stdout, selectors.EVENT_READ)
        sel.register(proc.stderr, selectors.EVENT_READ)
        while sel.get_map() and not outcome.overflowed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                outcome.timed_out = True
                break
            for key, _events in sel.select(remaining):
                if key.fileobj is proc.stdin:
                    try:
                        sent += os.write(key.fd, payload[sent:sent + 65536])
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        sent = len(payload)  # the child stopped reading; its output says why
                    if sent >= len(payload):
                        sel.unregister(proc.stdin)
                        proc.stdin.close()
                    continue
                block = os.read(key.fd, 65536)
                if not block:
                    sel.unregister(key.fileobj)
                    continue
                sizes[key.fd] += len(block)
                if sizes[key.fd] <= cap:
                    chunks[key.fd].append(block)
                elif key.fd == out_fd:  # stderr past the cap is only dropped
                    outcome.overflowed = True
                    break
    outcome.stdout = b"".join(chunks[out_fd])
    outcome.stderr = b"".join(chunks[proc.stderr.fileno()])
    return outcome


def _exited(proc: subprocess.Popen, deadline: float) -> bool:
    """Wait for the leader to exit without reaping it, so its pid still names the group."""
    while True:
        if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL everything the run started, then reap the leader.

    The leader's children go first so that bwrap, not the host's init, reaps them: an init
    that never reaps (as in some containers) would otherwise collect zombies.
    """
    children = _children(proc.pid)
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if children:
        _exited(proc, time.monotonic() + 1.0)
    # The leader is alive or a zombie here, so its pid still names the group and cannot belong
    # to someone else's; this reaches anything left in the group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None and not stream.closed:
            stream.close()


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []  # kernels without CONFIG_PROC_CHILDREN: the group kill alone still works


def _interpret(outcome: _Outcome, limits: SnippetLimits) -> dict:
    if outcome.timed_out:
        raise SnippetError("timeout", f"the snippet ran longer than {limits.timeout_s:g} s")
    if outcome.overflowed:
        raise SnippetError("output", f"the snippet wrote more than {limits.output_kb} KB")
    try:
        envelope = json.loads(outcome.stdout)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict):
        raise _death(outcome, limits)
    if envelope.get("ok") is True and isinstance(envelope.get("result"), dict):
        return envelope["result"]
    kind = envelope.get("kind")
    message = str(envelope.get("message") or "the snippet failed")[:1000]
    if kind not in get_args(ErrorKind):
        kind, message = "sandbox", "the sandbox returned an unreadable answer"
    line = envelope.get("line")
    if isinstance(line, int) and f"line {line}" not in message:
        message = f"{message} (line {line})"
    raise SnippetError(kind, message)


def _death(outcome: _Outcome, limits: SnippetLimits) -> SnippetError:
    """Explain a child that exited without a readable answer."""
    code = outcome.returncode or 0
    # bwrap reports a child killed by signal N as exit status 128 + N.
    sig = -code if code < 0 else code - 128 if code > 128 else 0
    if sig in (signal.SIGXCPU, signal.SIGKILL):
        return SnippetError("timeout", f"the snippet used more than {limits.cpu_s} s of CPU")
    if sig == signal.SIGSEGV:
        return SnippetError("memory", "the snippet crashed, most likely out of memory or stack")
    detail = outcome.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
    return SnippetError("sandbox", f"the sandbox failed (exit {code}) {detail[0][:300]}".strip())


# --- detecting and building the sandbox -------------------------------------------------------


@functools.cache
def _detect() -> _Sandbox:
    # The worker's PATH may be minimal, so also look where Debian's package puts it.
    bwrap = shutil.which("bwrap") or shutil.which("bwrap", path="/usr/bin")
    candidates: list[_Sandbox] = []
    if bwrap:
        seccomp = _seccomp_program()
        extra = ", no new processes" if seccomp else ""
        candidates.append(_Sandbox(
            f"bubblewrap (no network, read-only fs, unprivileged uid{extra})",
            _bwrap_prefix(bwrap, seccomp is not None), _CHILD_IN_SANDBOX, seccomp=seccomp,
        ))
    if os.geteuid() == 0:
        candidates.append(_Sandbox(
            "process as nobody (rlimits, empty env)", (), str(_CHILD_SOURCE), user=_NOBODY
        ))
    for candidate in candidates:
        if _works(candidate):
            return candidate
    return _Sandbox("process (rlimits, empty env)", (), str(_CHILD_SOURCE))


def _works(sandbox: _Sandbox) -> bool:
    """Run a trivial snippet the real way; any failure means this level is unavailable here."""
    try:
        return _run(sandbox, _PROBE_SNIPPET, {}, {}, SnippetLimits(timeout_s=_PROBE_TIMEOUT_S)) == {
            "probe": True
        }
    except SnippetError:
        return False


def _bwrap_prefix(bwrap: str, with_seccomp: bool) -> tuple[str, ...]:
    args = [
        bwrap, "--unshare-all", "--as-pid-1", "--die-with-parent", "--cap-drop", "ALL",
        "--uid", str(_NOBODY), "--gid", str(_NOBODY), "--clearenv", "--chdir", "/",
        "--ro-bind", "/usr", "/usr",
    ]
    for name in ("bin", "sbin", "lib", "lib32", "lib64"):
        top = Path("/", name)
        if top.is_symlink():
            args += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            args += ["--ro-bind", str(top), str(top)]
    for path in _interpreter_paths():
        args += ["--ro-bind", path, path]
    args += [
        "--ro-bind", str(_CHILD_SOURCE.resolve()), _CHILD_IN_SANDBOX,
        "--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev", "--remount-ro", "/",
    ]
    if with_seccomp:
        args += ["--seccomp", _SECCOMP_FD]
    return (*args, "--")


def _interpreter_paths() -> list[str]:
    """What `sys.executable -I -S` needs: the base install, and for a venv its bin and config."""
    wanted = {sys.base_prefix, sys.base_exec_prefix}
    if sys.prefix != sys.base_prefix:
        wanted.add(os.path.dirname(sys.executable))
        config = os.path.join(sys.prefix, "pyvenv.cfg")
        if os.path.exists(config):
            wanted.add(config)
    real = os.path.dirname(os.path.realpath(sys.executable))
    if not any(_under(real, path) for path in wanted):
        wanted.add(real)
    kept = [p for p in wanted if os.path.exists(p) and not _under(p, "/usr")]
    # Parents first, and nothing already covered by a parent bind.
    kept.sort(key=len)
    return [p for i, p in enumerate(kept) if not any(_under(p, q) for q in kept[:i])]


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


# --- seccomp: the kernel refuses fork/clone, since RLIMIT_NPROC does not bind a root-owned child.

_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# clone, fork, vfork, clone3 (aarch64 has only clone and clone3)
_PROCESS_SYSCALLS = {"x86_64": (56, 57, 58, 435), "aarch64": (220, 435)}


def _seccomp_program() -> bytes | None:
    machine = platform.machine()
    if machine not in _AUDIT_ARCH:
        return None
    ld_abs, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    kill, allow, eperm = 0x80000000, 0x7FFF0000, 0x00050000 | 1
    blocked = _PROCESS_SYSCALLS[machine]
    prog = [
        (ld_abs, 0, 0, 4), (jeq, 1, 0, _AUDIT_ARCH[machine]), (ret, 0, 0, kill),  # arch
        (ld_abs, 0, 0, 0),  # syscall number
    ]
    if machine == "x86_64":  # x32 numbers alias the same calls with bit 30 set
        prog += [(jge, 0, 1, 0x40000000), (ret, 0, 0, kill)]
    for i, number in enumerate(blocked):
        # Jump to the EPERM return after the ALLOW below on a match.
        prog.append((jeq, len(blocked) - i, 0, number))
    prog += [(ret, 0, 0, allow), (ret, 0, 0, eperm)]
    return b"".join(struct.pack("HBBI", *ins) for ins in prog)


def _seccomp_pipe(program: bytes | None) -> int | None:
    """A readable fd holding the program (bwrap reads it to EOF); the write end is closed."""
    if program is None:
        return None
    read_fd, write_fd = os.pipe()
    os.write(write_fd, program)  # tiny: far below the pipe buffer
    os.close(write_fd)
    return read_fd
