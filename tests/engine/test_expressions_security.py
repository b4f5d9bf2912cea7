"""Escapes, resource limits and secret hygiene: all of them must end in ExpressionError."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from app.engine.expressions import ExpressionError, compile_expression, compile_template

CTX: dict[str, Any] = {"data": {"items": [1, 2], "text": "abc"}, "store": {"a": {"b": 1}}}


class Explosive(Mapping[str, Any]):
    """A SECRET that fails any test which reads or enumerates it."""

    def __getitem__(self, key: str) -> Any:
        raise AssertionError("SECRET was read")

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("SECRET was enumerated")

    def __len__(self) -> int:
        raise AssertionError("SECRET was enumerated")


def run(src: str, ctx: Mapping[str, Any] | None = None) -> Any:
    return compile_expression(src).evaluate(CTX if ctx is None else ctx)


@pytest.mark.parametrize("src", [
    "().__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "__import__('os')",
    "__import__('os').system('true')",
    "store.__class__",
    "store.__class__.__init__.__globals__",
    "data.items.__len__",
    "str.mro",
    "str.mro()",
    "int.__subclasses__()",
    "data.text.upper()",
    "data.text.format('{0.__class__}')",
    "getattr(data, 'items')",
    "eval('1')",
    "open('/etc/passwd')",
    "type(data)",
    "(lambda: 1)()",
    "[x for x in data.items]",
    "{**store}",
    "[*data.items]",
    "(x := 1)",
    "f'{data}'",
    "import os",
    "data.items = 1",
    "globals()",
    "b'bytes'",
    "1j",
    "...",
    "SECRET",
    "len(SECRET)",
])
def test_escapes_are_refused_at_compile_time(src: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(src)


def test_attributes_are_only_key_lookups() -> None:
    # `.real`, `.keys` exist as Python attributes; the language must not reach them.
    assert run("store.a.keys") is None
    assert run("data.items.real") is None
    assert run("store['a']['b'].real") is None
    assert run("now().year") is None


@pytest.mark.parametrize(("src", "fragment"), [
    ("'a' * 10**9", "longer than"),
    ("[1] * 10**9", "longer than"),
    ("9**9**9", "larger than"),
    ("2**100000", "larger than"),
    ("(2**9000) * (2**9000)", "larger than"),
    ("('a' * 90000) + ('b' * 90000)", "longer than"),
    ("'%0999999999d' % 1", "formatting"),
    ("int('9' * 5000)", "too long"),
    ("join(['a' * 60000, 'b' * 60000])", "longer than"),
    ("2.0 ** 10000", "OverflowError"),
])
def test_resource_limits_fail_fast(src: str, fragment: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ExpressionError) as info:
        run(src)
    assert fragment in str(info.value)
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize("src", [
    "-" * 500 + "1",
    "[" * 100 + "]" * 100,
    "(" * 300 + "1" + ")" * 300,
    "len(" * 80 + "1" + ")" * 80,
    "1 + " * 5000 + "1",
    "x" * 10_000,
])
def test_deep_or_huge_expressions_are_refused(src: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(src)


def test_deeply_nested_template_json_is_refused() -> None:
    value: Any = "${data.text}"
    for _ in range(200):
        value = [value]
    with pytest.raises(ExpressionError, match="nests deeper"):
        compile_template(value)


def test_masking_never_touches_secret() -> None:
    template = compile_template({
        "url": "${SECRET.idfc.host}/token",
        "auth": "Bearer ${SECRET.idfc.token}",
        "jwt": "${jwt_encode({'payload': {}, 'secret': SECRET.idfc.key})}.safe_eval",
        "plain": "${data.text}",
        "sum": "${len(data.items) + 1}",
    })
    out = template.render({**CTX, "SECRET": Explosive()}, masked=True)
    assert out == {"url": "********/token", "auth": "Bearer ********", "jwt": "********",
                   "plain": "abc", "sum": 3}


def test_unmasked_render_reads_secret() -> None:
    template = compile_template("${SECRET.idfc.host}")
    with pytest.raises(ExpressionError):
        template.render({"SECRET": Explosive()})


@pytest.mark.parametrize("src", [
    "int(SECRET.v)",
    "float(SECRET.v)",
    "parse_date(SECRET.v)",
    "parse_date(SECRET.v, '%Y')",
    "date_to_epoch(SECRET.v)",
    "SECRET.v + 1",
    "SECRET.v / 0",
    "jwt_encode({'headers': {'alg': 'ES256'}, 'payload': {}, 'secret': SECRET.v})",
    "jmes('foo', SECRET.v) + 1",
    "timedelta(SECRET.v, {'days': 1})",
])
def test_error_messages_never_quote_secret_values(src: str) -> None:
    ctx = {"SECRET": {"v": "hunter2-secret-value"}}
    with pytest.raises(ExpressionError) as info:
        compile_template("${" + src + "}").render(ctx)
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in repr(info.value.args)
