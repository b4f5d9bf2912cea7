"""Template rendering: interpolation rules, look-ups, compile-time errors and parse-once."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from typing import Any

import jmespath
import pytest

from app.engine.expressions import (
    CONTEXT_NAMES,
    ExpressionError,
    check_template,
    compile_expression,
    compile_template,
    render_template,
)


class ReadOnlyMapping(Mapping[str, Any]):
    """A Mapping that is not a dict and refuses enumeration, like the services' SECRET."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data
        self.reads: list[str] = []

    def __getitem__(self, key: str) -> Any:
        self.reads.append(key)
        value = self._data[key]
        return ReadOnlyMapping(value) if isinstance(value, dict) else value

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("the mapping was enumerated")

    def __len__(self) -> int:
        raise AssertionError("the mapping was enumerated")


CTX: dict[str, Any] = {
    "data": {"items": [{"x": "first"}, {"x": "second"}], "n": 5, "flag": True, "none": None},
    "store": {"applicant": {"pan": "ABCDE1234F", "name": "Asha"}, "amount": 1250.5},
    "RUNNER_ID": "run-42",
}


def test_single_placeholder_renders_the_raw_value() -> None:
    assert render_template("${data.n}", CTX) == 5
    assert render_template("${data.flag}", CTX) is True
    assert render_template("${data.items}", CTX) == [{"x": "first"}, {"x": "second"}]
    assert render_template("${store.amount}", CTX) == 1250.5


def test_text_around_placeholders_renders_a_string() -> None:
    assert render_template("PAN ${store.applicant.pan}!", CTX) == "PAN ABCDE1234F!"
    assert render_template("${data.n}${data.n}", CTX) == "55"
    assert render_template(" ${data.n}", CTX) == " 5"
    assert render_template("${data.flag}/${data.none}/${data.items.0}", CTX) == (
        'true//{"x":"first"}')


def test_dicts_and_lists_are_walked_and_keys_are_not_templated() -> None:
    value = {"${data.n}": ["${store.applicant.name}", {"deep": "${data.n * 2}"}, 7, None]}
    assert render_template(value, CTX) == {"${data.n}": ["Asha", {"deep": 10}, 7, None]}


def test_safe_eval_suffix_evaluates_to_a_value() -> None:
    assert render_template("${{'minutes': data.n}}.safe_eval", CTX) == {"minutes": 5}
    # Only the whole-string form is special; elsewhere it is ordinary text.
    assert render_template("x ${data.n}.safe_eval", CTX) == "x 5.safe_eval"


def test_dollar_dollar_escapes_a_placeholder() -> None:
    assert render_template("cost: $${data.n}", CTX) == "cost: ${data.n}"
    assert render_template("$${a} ${data.n}", CTX) == "${a} 5"


def test_braces_and_quotes_inside_placeholders() -> None:
    assert render_template("${'}'}", CTX) == "}"
    assert render_template("<${len({'a': 1, 'b': '{'})}>", CTX) == "<2>"


def test_dotted_lookups_index_lists_and_missing_paths_are_none() -> None:
    assert render_template("${data.items.1.x}", CTX) == "second"
    assert render_template("${data.items.9.x}", CTX) is None
    assert render_template("${store.nobody.pan}", CTX) is None
    assert render_template("${store.applicant.pan.deeper}", CTX) is None
    assert render_template("${env.anything}", CTX) is None  # root absent from the context
    assert render_template("[${store.nobody}]", CTX) == "[]"


def test_numeric_segments_work_inside_larger_expressions() -> None:
    assert render_template("${upper(data.items.0.x) + '!'}", CTX) == "FIRST!"
    assert render_template("${data['items'][-1]['x']}", CTX) == "second"
    assert render_template("${data.items[5]}", CTX) is None
    assert render_template("${'a.0.b' + data.items.0.x}", CTX) == "a.0.bfirst"


def test_lookups_work_on_any_mapping_without_enumerating_it() -> None:
    secret = ReadOnlyMapping({"idfc": {"client_id": "cid", "host": "h"}})
    ctx = {"SECRET": secret, "store": ReadOnlyMapping({"a": {"b": [1, 2]}})}
    assert render_template("${SECRET.idfc.client_id}", ctx) == "cid"
    assert render_template("${SECRET['idfc']['host'] + '/x'}", ctx) == "h/x"
    assert render_template("${store.a.b.1}", ctx) == 2
    assert render_template("${SECRET.idfc.missing}", ctx) is None
    assert "idfc" in secret.reads


def test_rendered_containers_are_copies_of_the_context() -> None:
    ctx = {"store": {"items": [{"x": 1}]}}
    out = render_template("${store.items}", ctx)
    out[0]["x"] = 99
    assert ctx["store"]["items"][0]["x"] == 1
    template = compile_template({"fixed": {"list": [1, 2]}})
    template.render({})["fixed"]["list"].append(3)
    assert template.render({}) == {"fixed": {"list": [1, 2]}}


def test_names_and_uses_secrets_are_reported() -> None:
    template = compile_template({"a": "${SECRET.x.y}", "b": ["${len(store.items) + data.n}"]})
    assert template.names == frozenset({"SECRET", "store", "data"})
    assert template.uses_secrets
    assert not compile_template("${store.x}").uses_secrets
    assert compile_expression("data.n > 1 and RUNNER_ID").names == frozenset({"data",
                                                                              "RUNNER_ID"})
    assert frozenset({"data", "store", "params", "SECRET", "RUNNER_ID", "runner",
                      "env"}) == CONTEXT_NAMES


def test_bare_expressions_for_edge_conditions() -> None:
    cond = compile_expression("data.n >= 5 and store.applicant.name == 'Asha'")
    assert cond.evaluate(CTX) is True
    assert compile_expression("data.items.1.x").evaluate(CTX) == "second"
    assert compile_expression("not data.missing").evaluate(CTX) is True


@pytest.mark.parametrize(("template", "fragment"), [
    ("${nope.x}", "unknown name 'nope'"),
    ("${foo(1)}", "unknown function 'foo'"),
    ("${data.n +}", "syntax error"),
    ("${data.n", "without a matching"),
    ("${}", "empty placeholder"),
    ("${len(1, 2)}", "len() does not take 2"),
    ("${jmes('items[', data)}", "bad JMESPath"),
    ("${lower(x=1)}", "keyword arguments"),
])
def test_bad_templates_fail_at_compile_time(template: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_template({"a": [template]}, path="node.input")
    assert fragment in info.value.message
    assert info.value.path == "node.input.a[0]"


def test_check_template_reports_every_problem_with_its_path() -> None:
    errors = check_template({"ok": "${data.n}", "bad": "${nope}", "list": ["${foo()}", "x"]},
                            path="cfg")
    assert sorted(e.path for e in errors) == ["cfg.bad", "cfg.list[0]"]
    assert check_template({"ok": "${data.n}"}) == []


def test_render_errors_carry_path_and_expression() -> None:
    template = compile_template({"a": {"b": "${data.n / 0}"}}, path="input")
    with pytest.raises(ExpressionError) as info:
        template.render(CTX)
    assert info.value.path == "input.a.b"
    assert info.value.expression == "data.n / 0"
    assert "ZeroDivisionError" in str(info.value)


def test_rendering_never_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    template = compile_template({"a": "${jmes('items[].x', data)}", "b": "${data.n + 1}",
                                 "c": "x ${store.applicant.pan}"})

    def no_parsing(*_: Any, **__: Any) -> Any:
        raise AssertionError("parsed at render time")

    monkeypatch.setattr(ast, "parse", no_parsing)
    monkeypatch.setattr(jmespath, "compile", no_parsing)
    assert template.render(CTX) == {"a": ["first", "second"], "b": 6, "c": "x ABCDE1234F"}


def test_render_template_caches_compilation() -> None:
    value = {"k": "${data.n + 1}"}
    assert render_template(value, CTX) == {"k": 6}
    assert render_template(value, CTX) == {"k": 6}
    with pytest.raises(ExpressionError):
        render_template({"k": "${nope}"}, CTX)


def test_non_string_expression_is_refused() -> None:
    with pytest.raises(ExpressionError):
        compile_expression(42)  # type: ignore[arg-type]


def test_template_output_is_json_ready() -> None:
    from datetime import UTC, datetime

    clock = lambda: datetime(2026, 1, 22, 17, 34, 10, tzinfo=UTC)  # noqa: E731  a fixed clock
    out = compile_template({
        "at": "${now()}",
        "day": "${today()}",
        "in": "on ${today()} at ${now()}",
        "elapsed": "${now() - parse_date('2026-01-22T17:00:00Z')}",
        "pair": "${(1, 'a')}",
    }).render({}, clock=clock)
    assert out == {"at": "2026-01-22T17:34:10+00:00", "day": "2026-01-22",
                   "in": "on 2026-01-22 at 2026-01-22T17:34:10+00:00",
                   "elapsed": 2050.0, "pair": [1, "a"]}
