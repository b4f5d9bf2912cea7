"""Property tests: whatever the text, compiling and rendering raise only ExpressionError."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine.expressions import (
    CONTEXT_NAMES,
    ExpressionError,
    LazyParams,
    compile_expression,
    compile_template,
)
from app.engine.expressions.functions import ALL_FUNCTION_NAMES

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
FIXED = datetime(2026, 1, 1, tzinfo=UTC)
PLAIN = (str, int, float, bool, type(None), datetime, date, timedelta)


def make_context() -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "data": {"items": [{"x": 1}, {"x": "two"}], "n": 3, "s": "text", "f": 1.5},
        "store": {"a": {"b": [1, 2, 3]}, "flag": False},
        "SECRET": {"k": {"v": "secret-value"}},
        "RUNNER_ID": "run-1",
        "runner": {"id": "run-1"},
        "env": {},
    }
    ctx["params"] = LazyParams({"p": "${data.n}", "q": {"r": "${SECRET.k.v}"}}, lambda: ctx)
    return ctx


CTX = make_context()


def assert_plain(value: Any, depth: int = 0) -> None:
    """Results are data: nothing callable, no types, no modules can come out."""
    assert depth < 100
    if isinstance(value, dict):
        for key, item in value.items():
            assert_plain(key, depth + 1)
            assert_plain(item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            assert_plain(item, depth + 1)
    else:
        assert isinstance(value, PLAIN), type(value)


NAMES = [*sorted(CONTEXT_NAMES), "x", "str", "__import__", "__class__", "True", "None"]
KEYS = ["items", "a", "b", "n", "s", "k", "v", "p", "q", "r", "0", "1", "__class__", "mro"]
LITERALS = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=8).map(repr),
    st.sampled_from(["True", "False", "None", "[]", "{}", "()", "''"]),
)
OPERATORS = ["+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", ">=", " and ", " or ",
             " in ", " not in ", " is ", "&", "|", "^"]


def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    fn = st.sampled_from([*sorted(ALL_FUNCTION_NAMES), "eval", "getattr"])
    return st.one_of(
        st.tuples(children, st.sampled_from(OPERATORS), children).map(lambda t: f"({''.join(t)})"),
        st.tuples(st.sampled_from(["-", "not ", "~"]), children).map("".join),
        st.tuples(fn, st.lists(children, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(children, st.sampled_from(KEYS)).map(lambda t: f"{t[0]}.{t[1]}"),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.lists(children, max_size=3).map(lambda xs: f"[{', '.join(xs)}]"),
        st.tuples(LITERALS, children).map(lambda t: f"{{{t[0]}: {t[1]}}}"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
    )


EXPRESSIONS = st.recursive(st.one_of(st.sampled_from(NAMES), LITERALS), extend,
                           max_leaves=12)


def evaluate(src: str) -> None:
    try:
        compiled = compile_expression(src)
    except ExpressionError:
        return
    try:
        value = compiled.evaluate(CTX, clock=lambda: FIXED)
    except ExpressionError:
        return
    assert_plain(value)


@SETTINGS
@given(EXPRESSIONS)
def test_generated_expressions_raise_only_expression_error(src: str) -> None:
    evaluate(src)


SYMBOLS = [*"()[]{}.,:'\"+-*/%<>=!&|^~ _$\\#@0123456789abcdnosx", "__", "lambda", "for",
           " in ", "SECRET", "data", "len", "**", "9"]


@SETTINGS
@given(st.lists(st.sampled_from(SYMBOLS), max_size=40).map("".join))
def test_symbol_soup_raises_only_expression_error(src: str) -> None:
    evaluate(src)


@SETTINGS
@given(st.text(max_size=80))
def test_arbitrary_text_as_expression_raises_only_expression_error(src: str) -> None:
    evaluate(src)


@SETTINGS
@given(st.text(max_size=40), EXPRESSIONS, st.text(max_size=10))
def test_arbitrary_templates_raise_only_expression_error(before: str, src: str,
                                                         after: str) -> None:
    for text in (before, f"{before}${{{src}}}{after}", "${" + src + "}.safe_eval",
                 before.replace("{", "${")):
        try:
            template = compile_template({"k": [text]})
        except ExpressionError:
            continue
        for masked in (False, True):
            try:
                value = template.render(CTX, masked=masked, clock=lambda: FIXED)
            except ExpressionError:
                continue
            assert_plain(value)
            if masked:
                assert "secret-value" not in repr(value)
