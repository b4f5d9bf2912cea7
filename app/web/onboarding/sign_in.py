"""Onboarding sign-in: a mobile number or email, then the one-time code sent to it."""

from __future__ import annotations

import math
import time
from typing import Any

from flask import flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from app.models import Company
from app.services import customer_auth, otp
from app.services.errors import AuthenticationFailed, RateLimited, ValidationFailed
from app.web.onboarding import bp
from app.web.onboarding.context import (
    CHALLENGE_KEY,
    CUSTOMER_KEY,
    flow_for,
    runner_for,
    sign_in_customer,
    signed_in_customer,
)
from app.web.onboarding.forms import CodeForm, DestinationForm, ResendForm


def _retry_after(error: RateLimited) -> int | None:
    return getattr(error, "retry_after", None)


def _limited(error: RateLimited) -> dict[str, str]:
    retry = _retry_after(error)
    return {"Retry-After": str(retry)} if retry else {}


def wait_text(seconds: int) -> str:
    """`45 seconds`, `1 second`, or whole minutes (rounded up) beyond a minute and a half."""
    if seconds <= 90:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    return f"{math.ceil(seconds / 60)} minutes"


def _send_wait_message(error: RateLimited) -> str:
    # The limits know when they free up: say so rather than "wait a while".
    retry = _retry_after(error)
    return f"A new code can be sent in {wait_text(retry)}." if retry else error.message


def _code_still_live(pending: dict[str, Any] | None) -> bool:
    return pending is not None and pending.get("exp", 0) > time.time()


def _challenge(company: Company) -> dict[str, Any] | None:
    pending = session.get(CHALLENGE_KEY)
    return pending if isinstance(pending, dict) and pending.get("co") == company.id else None


def _same_destination(pending: dict[str, Any] | None, raw: str) -> bool:
    if pending is None:
        return False
    try:
        return otp.normalise_destination(raw).value == pending.get("to")
    except ValidationFailed:
        return False


@bp.route("/<flow_slug>", methods=["GET", "POST"])
def start(flow_slug: str) -> Any:
    flow, company = flow_for(flow_slug)
    if signed_in_customer(company) is not None:
        return redirect(url_for("onboarding.step", flow_slug=flow_slug))
    form = DestinationForm()
    status, headers, code_sent_to = 200, {}, None
    if form.validate_on_submit():
        try:
            sent = otp.send_code(company, form.destination.data or "", ip=request.remote_addr or "")
        except ValidationFailed as error:
            form.destination.errors.append(error.errors[0].message if error.errors else error.message)
            status = 422
        except RateLimited as error:
            form.destination.errors.append(_send_wait_message(error))
            status, headers = 429, _limited(error)
            pending = _challenge(company)
            # Asked again for the number a code just went to: that code still works, so offer it.
            if _code_still_live(pending) and _same_destination(pending, form.destination.data or ""):
                code_sent_to = pending["masked"]  # type: ignore[index]  checked live above
        except otp.OtpUnavailable as error:
            form.destination.errors.append(error.message)
            status = 503
        else:
            session[CHALLENGE_KEY] = {"id": sent.challenge_id, "co": company.id,
                                      "to": sent.destination.value, "masked": sent.destination.masked,
                                      "exp": int(time.time()) + sent.expires_in}
            return redirect(url_for("onboarding.code", flow_slug=flow_slug))
    elif form.is_submitted():
        status = 422
    return render_template("onboarding/start.html", flow=flow, company=company, form=form,
                           code_sent_to=code_sent_to), status, headers


@bp.route("/<flow_slug>/code", methods=["GET", "POST"])
def code(flow_slug: str) -> Any:
    flow, company = flow_for(flow_slug)
    pending = _challenge(company)
    if pending is None:
        return redirect(url_for("onboarding.start", flow_slug=flow_slug))
    form = CodeForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        try:
            destination = otp.verify_code(company.id, pending["id"], form.code.data or "")
        except AuthenticationFailed as error:
            form.code.errors.append(error.message)
            status = 422
        except RateLimited as error:
            retry = _retry_after(error)
            form.code.errors.append(f"Too many wrong codes. Please wait {wait_text(retry)}, then ask for "
                                    "a new code." if retry else error.message)
            status, headers = 429, _limited(error)
        except otp.OtpUnavailable as error:
            form.code.errors.append(error.message)
            status = 503
        else:
            customer = customer_auth.customer_for_destination(company, destination)
            sign_in_customer(customer)
            runner_for(flow, customer_auth.customer_principal(customer))
            return redirect(url_for("onboarding.step", flow_slug=flow_slug))
    elif form.is_submitted():
        status = 422
    return render_template("onboarding/code.html", flow=flow, company=company, form=form,
                           resend_form=ResendForm(), masked=pending.get("masked")), status, headers


@bp.post("/<flow_slug>/resend")
def resend(flow_slug: str) -> Any:
    _, company = flow_for(flow_slug)
    pending = _challenge(company)
    form = ResendForm()
    if pending is None or not form.validate_on_submit():
        return redirect(url_for("onboarding.start", flow_slug=flow_slug))
    try:
        sent = otp.send_code(company, pending["to"], ip=request.remote_addr or "")
    except RateLimited as error:
        still = " The code we sent earlier still works." if _code_still_live(pending) else ""
        flash(_send_wait_message(error) + still, "warning")
    except (otp.OtpUnavailable, ValidationFailed) as error:
        flash(error.message, "warning")
    else:
        session[CHALLENGE_KEY] = {**pending, "id": sent.challenge_id,
                                  "exp": int(time.time()) + sent.expires_in}
        flash("We sent you a new code.", "success")
    return redirect(url_for("onboarding.code", flow_slug=flow_slug))


@bp.post("/<flow_slug>/sign-out")
def sign_out(flow_slug: str) -> Response:
    flow_for(flow_slug)
    if ResendForm().validate_on_submit():  # any FlaskForm: only its CSRF token matters here
        session.pop(CUSTOMER_KEY, None)
        session.pop(CHALLENGE_KEY, None)
    return redirect(url_for("onboarding.start", flow_slug=flow_slug))
