"""JSON Schema errors said in plain words, for design validation problems.

jsonschema's own messages describe the schema ("{} is not valid under any of the given schemas",
"'data' is a required property"); an admin fixing a design needs to read what to change instead.
Each message names the key at fault (the problem's `field` still locates it in full).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match

_TYPES = {"string": "text", "integer": "a whole number", "number": "a number",
          "boolean": "true or false", "object": "an object", "array": "a list", "null": "null"}


def _key(name: Any) -> str:
    return f"`{name}`"


def _either(words: Sequence[str], joiner: str = "or") -> str:
    """`a`, `a or b`, `a, b or c`."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {joiner} {words[-1]}"


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return f"'{text[:40]}…'" if len(text) > 40 else f"'{text}'"


def _got(instance: Any) -> str:
    """What was given, for "must be X, not Y"."""
    if isinstance(instance, bool) or instance is None:
        return json.dumps(instance)
    if isinstance(instance, int | float):
        return f"the number {instance}"
    if isinstance(instance, str):
        return f"the text {_value(instance)}"
    return "a list" if isinstance(instance, list) else "an object"


def _types(expected: Any) -> str:
    names = [expected] if isinstance(expected, str) else list(expected)
    return _either([_TYPES.get(n, n) for n in names])


def _what(err: ValidationError, subject: str, depth: int) -> str:
    """The failing value's name: its key, "item N of `list`", or `subject` at the top."""
    path = list(err.absolute_path)[depth:]
    if not path:
        return subject
    last = path[-1]
    if isinstance(last, int):
        return f"item {last + 1} of {_key(path[-2])}" if len(path) > 1 else f"item {last + 1}"
    return _key(last)


def _alternatives(err: ValidationError, what: str) -> str | None:
    """An anyOf/oneOf of `required` sets: which keys it needs, or that it has too many of them."""
    options = err.validator_value
    if not (isinstance(options, list) and options
            and all(isinstance(o, dict) and set(o) == {"required"} for o in options)):
        return None
    sets = [" and ".join(_key(k) for k in o["required"]) for o in options]
    given = err.instance if isinstance(err.instance, dict) else {}
    met = sum(all(k in given for k in o["required"]) for o in options)
    if err.validator == "oneOf" and met > 1:
        return f"{what} takes {_either(sets)}, not both" if len(sets) == 2 \
            else f"{what} takes only one of {_either(sets)}"
    return f"{what} needs {_either(sets)}"


def _one_of_the_options(err: ValidationError, what: str, subject: str, depth: int) -> str:
    said = _alternatives(err, what)
    if said is not None:
        return said
    context = list(err.context or ())
    if not context:  # oneOf matched several options
        return f"{what} fits more than one of its allowed forms; keep the keys of one"
    # Every option refused the value itself by its type: say which types would do.
    if all(e.validator == "type" and not e.relative_path for e in context):
        expected = [t for e in context for t in ([e.validator_value] if isinstance(e.validator_value, str)
                                                 else e.validator_value)]
        return f"{what} must be {_types(list(dict.fromkeys(expected)))}, not {_got(err.instance)}"
    # Options whose type fits the value say more than those refusing it outright (a `retry` object
    # with a bad key belongs to the object option, not to the `null` one).
    fitting = [e for e in context if not (e.validator == "type" and not e.relative_path)]
    return explain(best_match(fitting or context), subject, depth)


def _plural(limit: Any) -> str:
    return "s" if limit != 1 else ""


# Rules whose wording needs only the key's name, the rule's value and the value given.
_SIMPLE: dict[str, Any] = {
    "type": lambda what, limit, given: f"{what} must be {_types(limit)}, not {_got(given)}",
    "enum": lambda what, limit, given:
        f"{what} must be one of {', '.join(_value(v) for v in limit)}, not {_value(given)}",
    "const": lambda what, limit, given: f"{what} must be {_value(limit)}",
    "minLength": lambda what, limit, given:
        f"{what} must not be empty" if limit == 1 else f"{what} needs at least {limit} characters",
    "maxLength": lambda what, limit, given: f"{what} must be at most {limit} characters long",
    "minItems": lambda what, limit, given: f"{what} needs at least {limit} item{_plural(limit)}",
    "maxItems": lambda what, limit, given: f"{what} takes at most {limit} item{_plural(limit)}",
    "minimum": lambda what, limit, given: f"{what} must be at least {limit}, not {given}",
    "maximum": lambda what, limit, given: f"{what} must be at most {limit}, not {given}",
    "exclusiveMinimum": lambda what, limit, given: f"{what} must be more than {limit}, not {given}",
    "exclusiveMaximum": lambda what, limit, given: f"{what} must be less than {limit}, not {given}",
    "pattern": lambda what, limit, given: f"{what} must match the pattern {limit}",
    "format": lambda what, limit, given: f"{what} is not a valid {limit}",
}


def _required(err: ValidationError) -> str:
    # jsonschema reports each missing key as its own error, naming it only in its message.
    limit, instance = err.validator_value, err.instance
    missing = [n for n in limit if not (isinstance(instance, dict) and n in instance)]
    named = [n for n in missing if err.message.startswith(f"{n!r} ")]
    names = [_key(n) for n in named or missing or limit]
    return f"{_either(names, 'and')} {'is' if len(names) == 1 else 'are'} required"


def _unknown_keys(err: ValidationError, what: str) -> str:
    known = sorted((err.schema.get("properties") or {}) if isinstance(err.schema, dict) else {})
    extra = [k for k in err.instance if k not in known]
    unknown = _either([_key(k) for k in extra], "and")
    takes = f"; it takes {', '.join(known)}" if known else "; it takes no keys"
    return f"{what} has no {unknown} (remove {'it' if len(extra) == 1 else 'them'}){takes}"


def explain(err: ValidationError, subject: str = "it", depth: int = 0) -> str:
    """`err` in plain words. `subject` names the validated value as a whole ("a timer", "the
    design"); `depth` is how many leading path parts belong to it rather than to the key at fault."""
    what = _what(err, subject, depth)
    kind = err.validator
    if kind == "required":
        return _required(err)
    if kind in ("anyOf", "oneOf"):
        return _one_of_the_options(err, what, subject, depth)
    if kind == "additionalProperties" and isinstance(err.instance, dict):
        return _unknown_keys(err, what)
    if kind in _SIMPLE:
        return _SIMPLE[kind](what, err.validator_value, err.instance)
    return err.message  # a rarer rule: jsonschema's wording still says what failed
