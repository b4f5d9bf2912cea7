"""The single error type of the expression language."""

from __future__ import annotations


class ExpressionError(Exception):
    """A template or expression that cannot compile, or failed while rendering.

    `message` never contains a context value (secrets flow through templates), only the
    template's own text. `expression` is the source inside `${...}` when known, and `path`
    the JSON path of the string inside the template (`params.auth.url`, `headers[0]`).
    """

    def __init__(self, message: str, *, expression: str | None = None,
                 path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression
        self.path = path

    def located(self, *, expression: str | None = None, path: str | None = None
                ) -> ExpressionError:
        """Fill in where it happened, keeping the innermost (most precise) location."""
        if self.expression is None:
            self.expression = expression
        if self.path is None:
            self.path = path or None
        return self

    def __str__(self) -> str:
        where = []
        if self.expression is not None:
            shown = self.expression if len(self.expression) <= 80 else self.expression[:77] + "..."
            where.append(f"in `{shown}`")
        if self.path:
            where.append(f"at {self.path}")
        return f"{self.message} ({' '.join(where)})" if where else self.message
