"""Security commands: `flask secrets rotate-key` re-encrypts everything with the newest key."""

from __future__ import annotations

import click
from cryptography.fernet import InvalidToken
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.models import CompanySecret
from app.services import mfa, secrets
from app.services.audit import Action, record_audit

secrets_cli = AppGroup("secrets", help="Company secrets and the keys that encrypt them.")


@secrets_cli.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every company secret and TOTP secret with the first FLOWDESK_SECRETS_KEYS key.

    To rotate: put a new key first in FLOWDESK_SECRETS_KEYS (keep the old ones after it), restart,
    run this, then drop the old keys. Keys derived from SECRET_KEY (development) are read too.
    """
    if not secrets.configured_keys():
        raise click.ClickException(
            "FLOWDESK_SECRETS_KEYS is empty. Generate a key with\n  python -c 'from cryptography.fernet "
            "import Fernet; print(Fernet.generate_key().decode())'\nand set FLOWDESK_SECRETS_KEYS to it "
            "(newest first, comma-separated).")
    try:
        keys = secrets.fernet(with_derived_key=True)
        company_ids = set(db.session.scalars(select(CompanySecret.company_id)))
        count = secrets.reencrypt_all(keys)
        totp_count = mfa.reencrypt_all(keys)
    except ValueError as error:  # a malformed key in the list
        db.session.rollback()
        raise click.ClickException(f"FLOWDESK_SECRETS_KEYS holds an invalid Fernet key ({error}).") from None
    except InvalidToken:
        db.session.rollback()
        raise click.ClickException(
            "Some values were encrypted with a key that is no longer in FLOWDESK_SECRETS_KEYS; add it "
            "back (after the new one) and retry.") from None
    for company_id in sorted(company_ids):
        record_audit(None, Action.SECRETS_KEY_ROTATED, "company", company_id, company_id=company_id)
    db.session.commit()
    click.echo(f"Re-encrypted {count} company secret(s) and {totp_count} second-factor secret(s) "
               "with the first key. Old keys can now be removed from FLOWDESK_SECRETS_KEYS.")
