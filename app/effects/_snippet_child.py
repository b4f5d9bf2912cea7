"""Bootstrap for the sandboxed child: limit itself, guard the snippet, run main, write JSON."""

# This file is executed as a script by `python -I -S` inside the sandbox, where the `app` package is
# not reachable, so it imports only the standard library. The parent also imports `find_problems`
# for lint at design time. Everything here is a friendly early error, not the security boundary:
# the OS sandbox (bubblewrap, rlimits, empty environment) is what actually contains a snippet.
from __future__ import annotations

import ast
import builtins
import importlib
import json
import sys
import types
from typing import Any

# Full dotted names; a submodule must be listed itself to be reachable (e.g. "collections.abc").
ALLOWED_MODULES = frozenset({
    "base64", "binascii", "bisect", "cmath", "collections", "collections.abc", "copy", "datetime",
    "decimal", "fractions", "functools", "hashlib", "heapq", "hmac", "itertools", "json",
    "math", "operator", "random", "re", "statistics", "string", "textwrap", "time",
    "unicodedata", "uuid", "zoneinfo",
})
# Public helpers that read attributes by a caller-chosen name, i.e. a way round the dunder ban.
HIDDEN_MEMBERS = {
    "functools": frozenset({"update_wrapper", "wraps"}),
    "operator": frozenset({"attrgetter", "methodcaller"}),
    "string": frozenset({"Formatter"}),
    "zoneinfo": frozenset({"reset_tzpath"}),  # would point ZoneInfo at arbitrary files
}
# Builtins that reach code, files, the interpreter's internals or the terminal.
FORBIDDEN_NAMES = frozenset({
    "__import__", "breakpoint", "compile", "delattr", "eval", "exec", "exit", "getattr", "globals",
    "help", "input", "locals", "memoryview", "open", "quit", "setattr", "vars",
})
# Attributes without underscores that still lead to frames, code objects and module globals.
FORBIDDEN_ATTRS = frozenset({
    "ag_code", "ag_frame", "cr_code", "cr_frame", "f_back", "f_builtins", "f_code", "f_globals",
    "f_locals", "gi_code", "gi_frame", "gi_yieldfrom", "tb_frame", "tb_next",
})
SNIPPET_FILENAME = "<snippet>"
MESSAGE_CHARS = 500


class Forbidden(Exception):
    """A snippet reached for something outside the allowlist; reported as kind "forbidden"."""


def find_problems(code: str) -> list[tuple[str, str]]:
    """Return (kind, message) pairs: a syntax error, forbidden names/imports, or a missing main.

    A clean result does not make a snippet safe; it only spares the author a round trip.
    """
    try:
        tree = ast.parse(code, filename=SNIPPET_FILENAME)
    except SyntaxError as exc:
        return [("syntax", f"SyntaxError: {exc.msg} (line {exc.lineno})")]
    problems = [("forbidden", msg) for msg in _forbidden_uses(tree)]
    if not _has_main(tree):
        problems.append(("syntax", "the snippet must define main(data, store) at top level"))
    return problems


def _forbidden_uses(tree: ast.AST) -> list[str]:
    found: list[str] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", "?")
        if isinstance(node, ast.Import):
            found += [
                f"import of {alias.name!r} is not allowed (line {line})"
                for alias in node.names if alias.name not in ALLOWED_MODULES
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.level or node.module not in ALLOWED_MODULES:
                found.append(f"import from {node.module or '.'!r} is not allowed (line {line})")
            found += [
                f"importing {alias.name!r} is not allowed (line {line})"
                for alias in node.names if alias.name == "*" or alias.name.startswith("_")
            ]
        elif isinstance(node, ast.Attribute) and _bad_attr(node.attr):
            found.append(f"attribute {node.attr!r} is not allowed (line {line})")
        elif isinstance(node, ast.MatchClass):  # `case C(__class__=x)` reads attributes too
            found += [
                f"attribute {name!r} is not allowed (line {line})"
                for name in node.kwd_attrs if _bad_attr(name)
            ]
        elif isinstance(node, ast.Name) and (
            node.id in FORBIDDEN_NAMES or node.id.startswith("__")
        ):
            found.append(f"name {node.id!r} is not allowed (line {line})")
    return found


def _bad_attr(name: str) -> bool:
    return name.startswith("_") or name in FORBIDDEN_ATTRS


def _has_main(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "main":
            args = node.args
            positional = len(args.posonlyargs) + len(args.args)
            return positional >= 2 or args.vararg is not None
    return False


class _ModuleView(types.SimpleNamespace):
    """What a snippet gets for an import; it cannot reach the module object behind it."""

    def __repr__(self) -> str:
        return "<module (snippet view)>"

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"{name!r} is not available to snippets")


def _module_view(module: types.ModuleType) -> _ModuleView:
    """Public, non-module attributes only: `datetime.sys` or `uuid.os` must not leak through."""
    public: dict[str, Any] = {}
    hidden = HIDDEN_MEMBERS.get(module.__name__, frozenset())
    for name in dir(module):
        if name.startswith("_") or name in hidden:
            continue
        value = getattr(module, name)
        if isinstance(value, types.ModuleType):
            if value.__name__ not in ALLOWED_MODULES:
                continue
            value = _module_view(value)
        public[name] = value
    return _ModuleView(**public)


def _guarded_import(
    name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0
) -> _ModuleView:
    if level or name not in ALLOWED_MODULES:
        raise Forbidden(f"import of {name!r} is not allowed in snippets")
    module = importlib.import_module(name)
    if not fromlist:
        # `import collections.abc` binds the top package, like the real import statement.
        module = importlib.import_module(name.partition(".")[0])
    return _module_view(module)


def _safe_getattr(obj: Any, name: str, *default: Any) -> Any:
    if not isinstance(name, str) or _bad_attr(name):
        raise Forbidden(f"attribute {name!r} is not allowed in snippets")
    return getattr(obj, name, *default)


def _snippet_builtins() -> dict[str, Any]:
    allowed = {
        name: value for name, value in vars(builtins).items()
        if not name.startswith("_") and name not in FORBIDDEN_NAMES
    }
    # Class statements need __build_class__; it creates classes, it does not reach anything.
    allowed.update(
        __import__=_guarded_import, getattr=_safe_getattr, __build_class__=builtins.__build_class__
    )
    return allowed


class _CappedText:
    """Stands in for stdout: counts printed characters and refuses past the output cap."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.overflowed = False

    def write(self, text: str) -> int:
        self.used += len(text)
        if self.used > self.limit:
            # Remembered even if the snippet catches the exception and keeps printing.
            self.overflowed = True
            raise Forbidden(f"the snippet printed more than {self.limit // 1024} KB")
        return len(text)

    def flush(self) -> None:
        return None


def _apply_limits(cpu_s: int, memory_mb: int, file_size_kb: int, max_files: int) -> None:
    import resource

    mb, kb = 1024 * 1024, 1024
    for limit, value in (
        (resource.RLIMIT_CPU, cpu_s),
        (resource.RLIMIT_AS, memory_mb * mb),
        (resource.RLIMIT_FSIZE, file_size_kb * kb),
        (resource.RLIMIT_NOFILE, max_files),
        (resource.RLIMIT_CORE, 0),
        # Ineffective for a root-owned process, hence the seccomp filter in the parent too.
        (resource.RLIMIT_NPROC, 0),
    ):
        resource.setrlimit(limit, (value, value))


def _error(kind: str, exc: BaseException | None = None, message: str = "") -> dict[str, Any]:
    line = None
    if exc is not None:
        message = type(exc).__name__
        try:
            text = str(exc)
        except Exception:  # a snippet's own __str__ may raise
            text = ""
        if text:
            message = f"{message}: {text}"
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == SNIPPET_FILENAME:
                line = tb.tb_lineno
            tb = tb.tb_next
        if isinstance(exc, SyntaxError) and exc.filename == SNIPPET_FILENAME:
            line = exc.lineno
    return {"ok": False, "kind": kind, "message": message[:MESSAGE_CHARS], "line": line}


def run(code: str, data: Any, store: Any, output_limit: int) -> dict[str, Any]:
    """Run one snippet in this process and return the JSON envelope for the parent."""
    problems = find_problems(code)
    if problems:
        kind, message = problems[0]
        return _error(kind, message=message)
    printed = _CappedText(output_limit)
    scope: dict[str, Any] = {"__builtins__": _snippet_builtins(), "__name__": "snippet"}
    failure: dict[str, Any] | None = None
    result: Any = None
    real_stdout = sys.stdout
    sys.stdout = printed  # type: ignore[assignment]
    try:
        exec(compile(code, SNIPPET_FILENAME, "exec"), scope)  # noqa: S102  this is the sandbox
        result = scope["main"](data, store)
    except BaseException as exc:  # SystemExit and friends are the snippet's errors too
        # Built while stdout is still captured: the exception's __str__ is snippet code.
        failure = _error(_kind_of(exc), exc)
    finally:
        sys.stdout = real_stdout
    if printed.overflowed:
        return _error("output", message=f"the snippet printed more than {output_limit // 1024} KB")
    if failure is None and not isinstance(result, dict):
        got = type(result).__name__
        failure = _error("bad_result", message=f"main must return a dict, not {got}")
    return failure or {"ok": True, "result": result}


def _kind_of(exc: BaseException) -> str:
    if isinstance(exc, Forbidden):
        return "forbidden"
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, SyntaxError):
        return "syntax"
    return "exception"


def _encode(envelope: dict[str, Any], output_limit: int) -> bytes:
    try:
        body = json.dumps(envelope, allow_nan=False, separators=(",", ":")).encode()
    except MemoryError as exc:
        body = json.dumps(_error("memory", exc)).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        body = json.dumps(_error("bad_result", message=f"result is not JSON: {exc}")).encode()
    if len(body) > output_limit:
        body = json.dumps(_error(
            "output", message=f"the result is larger than {output_limit // 1024} KB"
        )).encode()
    return body


def main() -> None:
    cpu_s, memory_mb, file_size_kb, max_files, output_limit = (int(a) for a in sys.argv[1:6])
    _apply_limits(cpu_s, memory_mb, file_size_kb, max_files)
    out = sys.stdout.buffer
    try:
        request = json.loads(sys.stdin.buffer.read())
        envelope = run(request["code"], request["data"], request["store"], output_limit)
    except MemoryError as exc:
        envelope = _error("memory", exc)
    out.write(_encode(envelope, output_limit))
    out.flush()


if __name__ == "__main__":
    main()
