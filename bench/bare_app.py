"""The baseline: bare Flask + Flask-SQLAlchemy (no auth, no hooks) reading and writing one row a request."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, abort
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.config import engine_options
from app.models import sqlite as _sqlite_pragmas  # noqa: F401  the same WAL settings as Flowdesk


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class BenchItem(db.Model):  # type: ignore[name-defined, misc]
    __tablename__ = "bench_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    steps: Mapped[int] = mapped_column(Integer, default=0)


def create(url: str) -> Flask:
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS=engine_options(url))
    db.init_app(app)

    @app.get("/bare/items/<int:item_id>")
    def read(item_id: int) -> Any:
        item = db.session.get(BenchItem, item_id) or abort(404)
        return {"id": item.id, "status": item.status, "steps": item.steps}

    @app.post("/bare/items/<int:item_id>")
    def write(item_id: int) -> Any:
        """Read the row, change it, commit: the least a durable step can do through the ORM."""
        item = db.session.get(BenchItem, item_id) or abort(404)
        item.steps += 1
        db.session.commit()
        return {"id": item.id, "status": item.status, "steps": item.steps}

    return app


def seed(url: str, count: int) -> None:
    app = create(url)
    with app.app_context():
        db.create_all()
        db.session.add_all([BenchItem(id=i) for i in range(count)])
        db.session.commit()
        db.engine.dispose()


app = create(os.environ["BENCH_DATABASE_URL"]) if "BENCH_DATABASE_URL" in os.environ else None
