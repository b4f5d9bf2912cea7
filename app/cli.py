"""Command-line tools: `flask demo load`, `flask users create`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.models import Company, Role
from app.security_cli import secrets_cli
from app.services import accounts, demo
from app.services.errors import ServiceError

demo_cli = AppGroup("demo", help="Demo data.")
users_cli = AppGroup("users", help="Staff users.")


@demo_cli.command("load")
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True,
              help="Where the app will be served, for the links printed (`make run` passes HOST:PORT).")
def demo_load(base_url: str) -> None:
    """Create the demo company, users and API token (safe to run again)."""
    base_url = base_url.rstrip("/")
    report = demo.load_demo(current_app.config["SECRET_KEY"])
    click.echo(f"Demo company: {report.company.name} (slug {report.company.slug})")
    click.echo(f"Sign in at {base_url}/login with:")
    for email, password, roles in report.credentials:
        click.echo(f"  {email:32} {password:24} {roles}")
    click.echo(f"API token (demo): {report.token}")
    for path in report.flows:
        click.echo(f"Customer onboarding: {base_url}{path}")
    click.echo(f"Created: {', '.join(report.created) or 'nothing, the demo was already loaded'}")


@users_cli.command("create")
@click.option("--company", "company_slug", required=True,
              help="Company slug; created if --company-name is given.")
@click.option("--company-name", default=None, help="Create the company with this name if it is missing.")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([r.value for r in Role]), help="Repeat for several roles.")
@click.password_option(help="Prompted for (twice) when not given.")
def users_create(  # noqa: PLR0917  click passes options positionally
    company_slug: str, company_name: str | None, email: str, name: str, roles: tuple[str, ...],
    password: str,
) -> None:
    """Create a staff user for a real deployment."""
    try:
        company = db.session.scalar(select(Company).where(Company.slug == company_slug))
        if company is None:
            if not company_name:
                raise click.UsageError(f"No company {company_slug!r}; pass --company-name to create it.")
            company = accounts.create_company(company_name, company_slug)
        user = accounts.create_user(company, email=email, name=name, password=password, roles=roles)
    except ServiceError as error:
        details = "; ".join(f"{e.path}: {e.message}" for e in error.errors)
        raise click.ClickException(f"{error.message} {details}".strip()) from error
    click.echo(f"Created {user.email} ({', '.join(user.roles)}) in {company.slug}.")


@click.command("worker")
@click.option("--once", is_flag=True, help="Fire what is due now, then exit.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between polls when idle.")
def worker(once: bool, interval: float) -> None:
    """Fire due steps, timers and retries (work left by any process, including crashed ones)."""
    import time

    from app.services.work import fire_due

    while True:
        done = fire_due()
        if once:
            click.echo(f"performed {done} item(s)")
            return
        if not done:
            time.sleep(interval)


def register_cli(app: Flask) -> None:
    app.cli.add_command(secrets_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(worker)
