"""Templates rendered for people against a runner's context, with every SECRET-derived value masked.

Rendering here is always `masked=True`: a placeholder that reads SECRET, directly or through
params that do, shows `********` and SECRET is never decrypted. The context's SECRET is sealed
as well, so even a rendering path that forgot to mask could only read nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from app.engine.expressions import ExpressionError, LazyParams, render_template
from app.extensions import db
from app.models import Runner, Store
from app.services import errors, runners, runtime
from app.services.principal import Principal

READER_KINDS = ("staff", "api", "system")


class _Sealed(Mapping[str, Any]):
    """A SECRET that holds nothing: reads find no name, and it cannot be listed."""

    def __getitem__(self, name: str) -> Any:
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _context(runner: Runner, data: Any = None) -> tuple[dict[str, Any], Any]:
    """The names templates see for this runner (as the engine builds them), and its compiled params."""
    store = db.session.get(Store, runner.store_id)
    assert store is not None  # noqa: S101  foreign key
    # The compiled design cached per version, not the version's row: reading and decoding its
    # document was a statement and most of Get Runner's time for a large design.
    design = runtime.design_for(runner.design_id)
    context: dict[str, Any] = {
        "data": data, "store": store.data or {}, "RUNNER_ID": runner.id,
        "runner": {"id": runner.id, "design": design.key}, "env": runtime.engine_env(),
        "SECRET": _Sealed(),
    }
    context["params"] = LazyParams(design.params, lambda: context) if design.params is not None else {}
    return context, design.params


def runner_params(runner: Runner) -> dict[str, Any] | None:
    """The design's params rendered for this runner, secrets masked; None if they do not render."""
    context, params = _context(runner)
    if params is None:
        return {}
    try:
        rendered = params.render(context, masked=True)
    except ExpressionError:
        return None  # a design error the runner will meet at its node; reading must not fail on it
    return rendered if isinstance(rendered, dict) else None


def parse_template(actor: Principal, runner_id: str, template: Any, *, data: Any = None) -> Any:
    """Render `template` against the runner's context (data, store, params, RUNNER_ID, runner, env).

    Secrets are masked; a template that does not compile or render is a ValidationFailed naming
    the path inside `template`.
    """
    if actor.kind not in READER_KINDS:
        raise errors.PermissionDenied("Only staff and API clients parse templates.")
    runner = runners.get_runner(actor, runner_id)
    context, _ = _context(runner, data)
    try:
        return render_template(template, context, masked=True)
    except ExpressionError as error:
        path = f"template.{error.path}" if error.path else "template"
        raise errors.ValidationFailed("The template does not render.",
                                      [errors.FieldError(path, error.message)]) from None
    except RecursionError:
        raise errors.ValidationFailed("The template does not render.",
                                      [errors.FieldError("template", "Nested too deeply.")]) from None
