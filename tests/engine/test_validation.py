"""Design validation: each rule reports a located problem, and a sound design compiles."""

from __future__ import annotations

import pytest

from app.engine import DesignError, compile_design, validate
from tests.engine.helpers import OPEN, design, goto, node


def codes(raw: dict) -> set[str]:
    return {p.code for p in validate(raw)}


def only(raw: dict, code: str) -> list:
    found = [p for p in validate(raw) if p.code == code]
    assert found, f"no {code} in {validate(raw)}"
    return found


def test_a_sound_design_has_no_problem() -> None:
    raw = design(node("ask", "form", goto("end", "submit"), permissions=OPEN))
    assert validate(raw) == []
    assert compile_design(raw).start_node == "start"


def test_unknown_type_names_the_node_and_field() -> None:
    [problem] = only(design(node("x", "teleport", goto("end"))), "unknown_type")
    assert (problem.node, problem.field) == ("x", "type")
    assert "teleport" in problem.message


def test_edge_to_missing_node_has_edge_index() -> None:
    raw = design(node("c", "condition", goto("end", condition="store.a"), goto("nowhere")))
    [problem] = only(raw, "missing_target")
    assert (problem.node, problem.edge, problem.field) == ("c", 1, "target_node")
    assert "nowhere" in problem.message


def test_an_edge_after_an_unconditional_one_for_the_same_action_is_dead() -> None:
    raw = design(node("ask", "form", goto("end", "submit"), goto("end", "submit"),
                      goto("end", "cancel"), permissions=OPEN))
    [problem] = only(raw, "dead_edge")
    assert (problem.node, problem.edge) == ("ask", 1)
    assert "edge 0 takes action 'submit' first, with no condition" in problem.message
    # A condition before the catch-all keeps both alive: the first that holds is taken.
    guarded = design(node("c", "condition", goto("end", condition="store.a"), goto("end")))
    assert "dead_edge" not in codes(guarded)


def test_unreachable_node() -> None:
    raw = design(node("a", "transform", goto("end"), config={"data": {}}),
                 node("island", "transform", goto("end"), config={"data": {}}))
    assert [p.node for p in only(raw, "unreachable")] == ["island"]


def test_start_node_missing_or_of_the_wrong_type() -> None:
    raw = design(node("a", "transform", goto("end"), config={"data": {}}))
    raw["start_node"] = "ghost"
    assert only(raw, "no_start")[0].field == "start_node"
    raw["start_node"] = "a"
    assert "must be of type start" in only(raw, "no_start")[0].message


def test_no_path_to_an_end() -> None:
    raw = design(node("ask", "form", goto("ask2", "next"), permissions=OPEN),
                 node("ask2", "form", goto("ask", "back"), permissions=OPEN))
    assert {p.node for p in only(raw, "no_path_to_end")} == {"start", "ask", "ask2"}


def test_no_end_node_at_all() -> None:
    raw = {"start_node": "start", "nodes": [node("start", "start", goto("ask")),
                                            node("ask", "form", goto("ask", "again"))]}
    assert only(raw, "no_end")[0].node is None


def test_duplicate_names() -> None:
    raw = design(node("a", "transform", goto("end"), config={"data": {}}),
                 node("a", "transform", goto("end"), config={"data": {}}))
    assert only(raw, "duplicate_name")[0].node == "a"


@pytest.mark.parametrize(("type_", "config", "field"), [
    ("api_call", {}, "config"),                                 # url is required
    ("api_call", {"url": "https://x", "verb": "get"}, "config"),  # unknown key
    ("timer", {"duration": "soon"}, "config.duration"),
    ("timer", {}, "config"),
    ("form", {"schema": {"type": "nonsense"}}, "config.schema"),
    ("code_snippet", {"code": ""}, "config.code"),
    ("notify", {"channel": "pigeon", "to": "x"}, "config.channel"),
])
def test_config_must_match_the_type_schema(type_: str, config: dict, field: str) -> None:
    raw = design(node("n", type_, goto("end", "go" if type_ == "form" else "auto"),
                      config=config, permissions=OPEN))
    problems = [p for p in validate(raw) if p.code == "bad_config"]
    assert problems and problems[0].node == "n"
    assert problems[0].field == field


def test_a_checklist_without_items_or_template_says_which_keys_it_needs() -> None:
    raw = design(node("c", "checklist", goto("end", "complete"), config={}))
    [problem] = only(raw, "bad_config")
    assert (problem.node, problem.field) == ("c", "config")
    assert problem.message == "a checklist needs `template_id` or `items`"
    assert "any of the given schemas" not in str(validate(raw))


# What an admin reads under Validate (and an API client in Graph Validation's problems): what to fix,
# never jsonschema's description of its schema nor Python's None. Code and location stay as they were.
@pytest.mark.parametrize(("type_", "config", "code", "field", "message"), [
    ("timer", {}, "bad_config", "config", "a timer needs `duration` or `until`"),
    ("timer", {"duration": 60, "until": "2030-01-01T00:00:00Z"}, "bad_config", "config",
     "a timer takes `duration` or `until`, not both"),
    ("timer", {"duration": True}, "bad_config", "config.duration",
     "`duration` must be a number or text, not true"),
    ("transform", {}, "bad_config", "config", "`data` is required"),
    ("api_call", {"url": "https://x", "verb": "get"}, "bad_config", "config",
     "an api_call has no `verb` (remove it); it takes auth_token_config, body, body_type, "
     "encryption_config, headers, method, query, response_map, response_type, timeout, url"),
    ("notify", {"channel": "pigeon", "to": "x"}, "bad_config", "config.channel",
     "`channel` must be one of 'email', 'sms', 'webhook', 'in_app', not 'pigeon'"),
    ("document", {"documents": [{"label": "PAN"}]}, "bad_config", "config.documents.0",
     "`type` is required"),
])
def test_config_problems_say_what_to_fix(type_: str, config: dict, code: str, field: str,
                                         message: str) -> None:
    raw = design(node("n", type_, goto("end", "submit" if type_ == "document" else "auto"),
                      config=config))
    [problem] = only(raw, code)
    assert (problem.node, problem.edge, problem.field, problem.message) == ("n", None, field, message)


def test_structure_problems_say_what_to_fix() -> None:
    raw = design(node("a", "transform", {"type": "goto", "target_node": ["end"]}, config={"data": {}},
                      retry={"maximumAttempts": 0}))
    found = {(p.code, p.node, p.edge, p.field, p.message) for p in validate(raw)}
    assert found == {
        ("bad_structure", "a", 0, "target_node", "`target_node` must be text or null, not a list"),
        ("bad_structure", "a", None, "retry", "`maximumAttempts` must be at least 1, not 0")}
    assert [p.message for p in validate({})] == ["`start_node` is required", "`nodes` is required"]


def test_a_parallel_without_join_says_to_name_one_not_none() -> None:
    raw = design(node("fork", "parallel", goto("a"), goto("b"), config={}),
                 node("a", "transform", goto("end"), config={"data": {}}),
                 node("b", "transform", goto("end"), config={"data": {}}))
    found = {(p.code, p.field, p.message) for p in validate(raw) if p.node == "fork"}
    assert found == {
        ("bad_config", "config", "`join` is required"),
        ("parallel_without_join", "config.join",
         "config.join is missing: name the join node where this parallel's branches meet")}
    raw["nodes"][1]["config"] = {"join": "a"}
    [problem] = only(raw, "parallel_without_join")
    assert problem.message == ("config.join 'a' is a transform node, not a join: name the join node "
                               "where this parallel's branches meet")


def test_an_edge_without_target_says_to_name_one() -> None:
    raw = design(node("a", "transform", {"type": "goto"}, config={"data": {}}))
    [problem] = only(raw, "missing_target")
    assert (problem.node, problem.edge, problem.field) == ("a", 0, "target_node")
    assert problem.message == "target_node is missing: name the node this edge goes to"


def test_condition_that_does_not_parse() -> None:
    raw = design(node("c", "condition", goto("end", condition="store.a >"), goto("end")))
    [problem] = only(raw, "bad_condition")
    assert (problem.node, problem.edge, problem.field) == ("c", 0, "config.condition")


def test_template_that_does_not_parse_is_located_inside_the_config() -> None:
    raw = design(node("n", "notify", goto("end"),
                      config={"channel": "email", "to": "a@b.c", "body": "Hi ${store.name"}))
    [problem] = only(raw, "bad_template")
    assert problem.node == "n"
    assert problem.field.startswith("config.body")


def test_bad_params_template() -> None:
    raw = design(node("a", "transform", goto("end"), config={"data": {}}),
                 params={"x": "${nope(}"})
    assert only(raw, "bad_template")[0].field.startswith("params")


def test_bad_jmespath_in_edge_return_and_response_map() -> None:
    raw = design(node("call", "api_call", goto("end", returns={"a": "store.[["}),
                      config={"url": "https://x", "response_map": {"s": "body..x"}}))
    fields = {(p.edge, p.field) for p in only(raw, "bad_jmespath")}
    assert fields == {(0, "return.data.a"), (None, "config.response_map.s")}


def test_secret_outside_api_call_is_refused() -> None:
    raw = design(node("n", "notify", goto("end"),
                      config={"channel": "sms", "to": "${SECRET.phone}", "body": "x"}))
    assert only(raw, "secret_outside_api_call")[0].node == "n"


def test_parallel_without_matching_join() -> None:
    raw = design(node("fork", "parallel", goto("a"), goto("b"), config={"join": "a"}),
                 node("a", "transform", goto("end"), config={"data": {}}),
                 node("b", "transform", goto("end"), config={"data": {}}))
    assert only(raw, "parallel_without_join")[0].field == "config.join"


def test_parallel_branch_that_never_reaches_its_join() -> None:
    raw = design(node("fork", "parallel", goto("a"), goto("b"), config={"join": "meet"}),
                 node("a", "transform", goto("meet"), config={"data": {}}),
                 node("b", "transform", goto("end"), config={"data": {}}),
                 node("meet", "join", goto("end")))
    [problem] = only(raw, "parallel_without_join")
    assert (problem.node, problem.edge) == ("fork", 1)


def test_join_without_parallel() -> None:
    raw = design(node("meet", "join", goto("end")))
    assert only(raw, "join_without_parallel")[0].node == "meet"


def test_cycle_of_automatic_nodes() -> None:
    raw = design(node("a", "transform", goto("b"), config={"data": {}}),
                 node("b", "condition", goto("end", condition="store.done"), goto("a")))
    [problem] = only(raw, "automatic_cycle")
    assert "a -> b" in problem.message


def test_cycle_through_a_waiting_node_is_fine() -> None:
    raw = design(node("a", "transform", goto("ask"), config={"data": {}}),
                 node("ask", "form", goto("a", "again"), goto("end", "done"), permissions=OPEN))
    assert "automatic_cycle" not in codes(raw)


def test_return_edge_needs_a_node_that_takes_actions() -> None:
    raw = design(node("a", "transform", goto("", kind="return"), goto("end"),
                      config={"data": {}}))
    assert only(raw, "bad_edge")[0].edge == 0


def test_structure_errors_are_located() -> None:
    raw = design(node("a", "transform", {"type": "teleport", "target_node": "end"},
                      config={"data": {}}))
    [problem] = only(raw, "bad_structure")
    assert (problem.node, problem.edge, problem.field) == ("a", 0, "type")


def test_every_problem_is_reported_at_once() -> None:
    raw = design(node("x", "teleport", goto("end")),
                 node("c", "condition", goto("gone", condition="(")))
    assert {"unknown_type", "missing_target", "bad_condition"} <= codes(raw)


def test_compile_design_raises_with_the_problem_list() -> None:
    raw = design(node("x", "teleport", goto("end")))
    with pytest.raises(DesignError) as caught:
        compile_design(raw)
    assert caught.value.problems[0].code == "unknown_type"
    assert "node 'x'" in str(caught.value)


def test_compiled_once_per_version_and_shared() -> None:
    raw = design(node("a", "transform", goto("end"), config={"data": {}}), id="d", version=7)
    first = compile_design(raw)
    assert compile_design(dict(raw)) is first
    assert first.key == "d:7"
