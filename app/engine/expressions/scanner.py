"""Splitting a template string into literal text and `${...}` expression sources."""

from __future__ import annotations

from app.engine.expressions.errors import ExpressionError

SAFE_EVAL = ".safe_eval"


class Placeholder(str):
    """The source inside one `${...}` (a str subclass, to tell it from literal text)."""

    __slots__ = ()


def scan(text: str) -> list[str]:
    """Literal `str` pieces and `Placeholder` sources, in order; `$${` is a literal `${`.

    The closing brace is found by counting braces outside quoted strings, so dict literals
    (`${timedelta(now(), {'minutes': 30})}`) and quoted braces (`${'}'}`) both work.
    """
    parts: list[str] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while True:
        j = text.find("${", i)
        if j < 0:
            literal.append(text[i:])
            break
        if j > i and text[j - 1] == "$":  # "$${" escapes: keep one "$" and the brace
            literal.append(text[i:j - 1] + "${")
            i = j + 2
            continue
        literal.append(text[i:j])
        end = _closing_brace(text, j + 2, n)
        source = text[j + 2:end]
        if not source.strip():
            raise ExpressionError("empty placeholder '${}'")
        if any(literal):
            parts.append("".join(literal))
        literal = []
        parts.append(Placeholder(source))
        i = end + 1
    if any(literal):
        parts.append("".join(literal))
    return parts


def _closing_brace(text: str, k: int, n: int) -> int:
    depth, quote = 1, ""
    while k < n:
        c = text[k]
        if quote:
            if c == "\\":
                k += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return k
        k += 1
    raise ExpressionError("'${' without a matching '}'")


def whole_placeholder(text: str) -> str | None:
    """The source if `text` is exactly one `${...}` (optionally followed by `.safe_eval`)."""
    if not text.startswith("${"):
        return None
    body = text[:-len(SAFE_EVAL)] if text.endswith("}" + SAFE_EVAL) else text
    if not body.endswith("}"):
        return None
    try:
        parts = scan(body)
    except ExpressionError:
        return None
    if len(parts) == 1 and isinstance(parts[0], Placeholder):
        return str(parts[0])
    return None
