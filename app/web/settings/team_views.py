"""Team pages (admins): the company's staff users; add one, change roles, deactivate, reset a password or
a second factor."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, make_response, redirect, render_template, url_for
from werkzeug.wrappers import Response

from app.auth import current_principal, role_required
from app.services import team
from app.services.errors import Conflict, ValidationFailed
from app.services.principal import Principal
from app.web.settings import bp
from app.web.settings.forms import InviteForm, MemberActionForm, MemberRolesForm, role_names

MemberChange = Callable[[Principal, str], team.Member]


@bp.context_processor
def role_labels() -> dict[str, Callable[[list[str]], str]]:
    """`role_names` for the settings tables (team, tokens): roles as the checkboxes name them."""
    return {"role_names": role_names}


def _page(template: str, issued: team.IssuedPassword | None = None, **context: object) -> Response:
    response = make_response(render_template(template, issued=issued, action_form=MemberActionForm(),
                                             **context))
    if issued:  # a page showing a temporary password must not linger in caches or history
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/team", methods=["GET", "POST"], endpoint="team")
@role_required("admin")
def team_page() -> Response:
    form = InviteForm()
    issued = None
    refused = form.is_submitted() and not form.validate()  # e.g. no role ticked: said at the field
    if form.is_submitted() and not refused:
        try:
            issued = team.invite_user(current_principal(), name=form.name.data or "",
                                      email=form.email.data or "", roles=form.roles.data or [])
        except ValidationFailed as error:
            refused = True
            for field_error in error.errors:
                getattr(form, field_error.path, form.email).errors.append(field_error.message)
        else:
            form = InviteForm(formdata=None)
    response = _page("settings/team.html", issued, form=form, members=team.list_team(current_principal()))
    if refused:
        response.status_code = 422  # what was typed stays in the form
    return response


@bp.route("/team/<user_id>", methods=["GET", "POST"], endpoint="team_member")
@role_required("admin")
def member_page(user_id: str) -> Response:
    member = team.get_member(current_principal(), user_id)
    form = MemberRolesForm(data={"roles": member.roles})
    if form.validate_on_submit():
        try:
            team.update_user_roles(current_principal(), user_id, form.roles.data or [])
        except (ValidationFailed, Conflict) as error:
            form.roles.errors.extend([e.message for e in error.errors] or [error.message])
        else:
            flash(f"Roles of {member.name} saved.", "success")
            return redirect(url_for("settings.team_member", user_id=user_id))
    return _page("settings/team_member.html", member=member, form=form)


@bp.post("/team/<user_id>/deactivate", endpoint="deactivate_member")
@role_required("admin")
def deactivate_member(user_id: str) -> Response:
    return _act(user_id, team.deactivate_user, "{} can no longer sign in and was signed out everywhere.")


@bp.post("/team/<user_id>/reactivate", endpoint="reactivate_member")
@role_required("admin")
def reactivate_member(user_id: str) -> Response:
    return _act(user_id, team.reactivate_user, "{} can sign in again.")


def _act(user_id: str, use_case: MemberChange, done: str) -> Response:
    if MemberActionForm().validate_on_submit():
        try:
            member = use_case(current_principal(), user_id)
        except Conflict as error:
            flash(error.message, "error")
        else:
            flash(done.format(member.name), "success")
    return redirect(url_for("settings.team_member", user_id=user_id))


@bp.post("/team/<user_id>/reset-password", endpoint="reset_member_password")
@role_required("admin")
def reset_member_password(user_id: str) -> Response:
    if MemberActionForm().validate_on_submit():
        try:
            issued = team.reset_user_password(current_principal(), user_id)
        except Conflict as error:
            flash(error.message, "error")
        else:
            return _page("settings/team_member.html", issued, member=issued.member,
                         form=MemberRolesForm(formdata=None, data={"roles": issued.member.roles}))
    return redirect(url_for("settings.team_member", user_id=user_id))


@bp.post("/team/<user_id>/reset-second-factor", endpoint="reset_member_second_factor")
@role_required("admin")
def reset_member_second_factor(user_id: str) -> Response:
    if MemberActionForm().validate_on_submit():
        try:
            reset = team.reset_user_second_factor(current_principal(), user_id)
        except Conflict as error:
            flash(error.message, "error")
        else:
            name = reset.member.name
            then = ("Their company requires one, so they set up a new second factor at their next sign-in."
                    if reset.must_enrol else
                    "They sign in with their password alone until they set up a new one under Security.")
            flash(f"The second factor of {name} was removed and they were signed out everywhere. {then}",
                  "success")
    return redirect(url_for("settings.team_member", user_id=user_id))
