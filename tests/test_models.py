"""Model rules: aware timestamps set per row, tenant-scoped uniqueness of customers."""

from __future__ import annotations

import time
from datetime import UTC

import pytest
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Customer


def test_timestamps_are_aware_and_per_row(make_company):
    first = make_company()
    time.sleep(0.01)
    second = make_company()
    db.session.expire_all()
    assert first.created_at.tzinfo is not None and first.created_at.utcoffset() == UTC.utcoffset(None)
    assert second.created_at > first.created_at


def test_customer_unique_per_company(make_company):
    a, b = make_company(), make_company()
    db.session.add_all([Customer(company_id=a.id, mobile="+919000000001"),
                        Customer(company_id=b.id, mobile="+919000000001")])
    db.session.commit()
    db.session.add(Customer(company_id=a.id, mobile="+919000000001"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_customer_needs_mobile_or_email(make_company):
    db.session.add(Customer(company_id=make_company().id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_every_tenant_table_carries_company_id():
    from app.models import Base

    global_tables = {"companies"}
    for table in Base.metadata.sorted_tables:
        if table.name not in global_tables:
            assert "company_id" in table.columns, f"{table.name} lacks company_id"
