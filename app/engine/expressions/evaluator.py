"""The simpleeval-based evaluator behind every expression that is not a plain dotted path."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from simpleeval import EvalWithCompoundTypes, SimpleEval

from app.engine.expressions.errors import ExpressionError
from app.engine.expressions.functions import CLOCK_FUNCTIONS, FUNCTIONS, describe_failure
from app.engine.expressions.limits import OPERATORS, check_length
from app.engine.expressions.values import Lazy, plain, step


class Evaluator(EvalWithCompoundTypes):
    """simpleeval's operators, comparisons and literals; our own names, look-ups and calls.

    Only trees the compiler validated reach it, so there is no name or node it must refuse.
    Names resolve to context data; `a.b` and `a['b']` are key look-ups (`step`), never Python
    attribute access, so no object behind the data is reachable. It is built per evaluation
    without simpleeval's __init__ (the dispatch table is shared): cheap, and nested renders
    through params never share state.
    """

    def __init__(self, context: Mapping[str, Any], clock: Callable[[], datetime]) -> None:
        # Not calling super().__init__ on purpose: it builds per-instance tables we replace.
        self.names = context
        self.clock = clock
        self.operators = OPERATORS
        self.functions: dict[str, Any] = {}
        self.allowed_attrs = None
        self.expr = ""

    def __del__(self) -> None:
        """simpleeval's __del__ clears a table this class never builds."""

    def _eval(self, node: ast.AST) -> Any:
        return _DISPATCH[type(node)](self, node)

    def _eval_name(self, node: ast.Name) -> Any:
        return step(self.names, node.id)

    def _eval_attribute(self, node: ast.Attribute) -> Any:
        return step(self._eval(node.value), node.attr)

    def _eval_subscript(self, node: ast.Subscript) -> Any:
        container = self._eval(node.value)
        key = self._eval(node.slice)
        if isinstance(container, Lazy) and isinstance(key, slice):
            container = container.materialize()
        if isinstance(key, slice):
            if not isinstance(container, str | list | tuple):
                raise ExpressionError("only text and lists can be sliced")
            return container[key]
        if isinstance(container, str) and isinstance(key, int) and not isinstance(key, bool):
            return container[key] if -len(container) <= key < len(container) else None
        return step(container, key)

    def _eval_call(self, node: ast.Call) -> Any:
        name = node.func.id if isinstance(node.func, ast.Name) else ""  # compiler: always a Name
        args = [plain(self._eval(arg)) for arg in node.args]
        try:
            clocked = CLOCK_FUNCTIONS.get(name)
            result = clocked(self.clock, *args) if clocked else FUNCTIONS[name](*args)
        except ExpressionError:
            raise
        except Exception as exc:
            raise ExpressionError(describe_failure(name, exc)) from None
        return check_length(result, name)


def _constant(_: Evaluator, node: ast.Constant) -> Any:
    return node.value


_DISPATCH: dict[type[ast.AST], Callable[[Evaluator, Any], Any]] = {
    ast.Constant: _constant,
    ast.Name: Evaluator._eval_name,
    ast.Attribute: Evaluator._eval_attribute,
    ast.Subscript: Evaluator._eval_subscript,
    ast.Call: Evaluator._eval_call,
    ast.BinOp: SimpleEval._eval_binop,
    ast.UnaryOp: SimpleEval._eval_unaryop,
    ast.BoolOp: SimpleEval._eval_boolop,
    ast.Compare: SimpleEval._eval_compare,
    ast.IfExp: SimpleEval._eval_ifexp,
    ast.Slice: SimpleEval._eval_slice,
    ast.Dict: EvalWithCompoundTypes._eval_dict,
    ast.List: EvalWithCompoundTypes._eval_list,
    ast.Tuple: EvalWithCompoundTypes._eval_tuple,
}
EVALUATED_NODES = frozenset(_DISPATCH)
"""Node types the evaluator handles; the compiler refuses every other expression node."""
