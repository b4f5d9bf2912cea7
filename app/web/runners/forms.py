"""Forms of the runner pages: the list's filters (GET) and the cancel and retry actions (POST)."""

from __future__ import annotations

from typing import Any

from wtforms import SearchField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.services.runner_queries import RunnerFilter
from app.web.forms import Form

FILTERS = ("flow", "status", "stage", "q")


class FilterForm(Form):
    """A GET form: filters are bookmarkable and change nothing, so no CSRF token."""

    class Meta:
        csrf = False

    flow = SelectField("Flow", default="", validators=[Optional()])
    status = SelectField("Status", default="", validators=[Optional()])
    stage = SelectField("Stage", default="", validators=[Optional()])
    q = SearchField("Search", validators=[Optional(), Length(max=254)],
                    description="A reference, or a customer's email or mobile.")

    def set_choices(self, choices: dict[str, list[Any]]) -> None:
        self.flow.choices = [SelectChoice("", "All flows"),
                             *[SelectChoice(flow_id, name) for flow_id, name in choices["flows"]]]
        self.status.choices = [SelectChoice("", "Any status"),
                               *[SelectChoice(s, s) for s in choices["statuses"]]]
        self.stage.choices = [SelectChoice("", "Any stage"), *[SelectChoice(s, s) for s in choices["stages"]]]

    def where(self) -> RunnerFilter:
        """The filter of the fields that validated; a field in error (a stale bookmark) is ignored."""
        def value(name: str) -> str | None:
            field = self[name]
            if field.errors:
                return None
            return (field.data or "").strip() or None

        return RunnerFilter(flow_id=value("flow"), status=value("status"), stage=value("stage"), q=value("q"))

    def args(self) -> dict[str, str]:
        """The query string that reproduces this filter (for links to older pages)."""
        return {name: self[name].data for name in FILTERS if self[name].data}

    @property
    def filtered(self) -> bool:
        return bool(self.args())


class CancelForm(Form):
    reason = TextAreaField("Why cancel it?", validators=[DataRequired("Say why the runner is cancelled."),
                                                         Length(max=500)],
                           description="Kept in the runner's activity and the audit log.")


class RetryForm(Form):
    pass
