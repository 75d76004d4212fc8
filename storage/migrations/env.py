"""Alembic environment: the models' metadata, and the URL from `storage.migrate`."""

from __future__ import annotations

import sqlite3
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.models
import storage.staff
import storage.updates  # noqa: F401  (Telegram updates already handled)
from storage.db import configured_engine
from storage.models import UTCDateTime

config = context.config
target_metadata = SQLModel.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """A UTCDateTime column is written as the plain DateTime(timezone=True) it is in the schema:
    the type only converts in Python, and a revision must not import the models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return f"sa.{obj.impl_instance!r}"
    return False


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    with configured_engine(config.get_main_option("sqlalchemy.url") or "") as engine, \
            engine.connect() as connection:
        _run(connection)


def _sqlite_is_new_enough(connection: Connection) -> None:
    """Stop before any change, with what to do, on a SQLite too old for the migrations: 0006 and
    0008 drop columns in place, which SQLite does since 3.35 (its DDL is not transactional, so
    a failure halfway would leave the schema half changed)."""
    if connection.dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
        raise RuntimeError(
            f"Migrating this database needs SQLite 3.35 or later to drop columns; this Python has "
            f"{sqlite3.sqlite_version}. Use a Python built with a newer SQLite (Debian 12 has "
            f"3.40), or PostgreSQL.")


def _run(connection: Connection) -> None:
    _sqlite_is_new_enough(connection)
    # Batch mode lets SQLite alter tables the way PostgreSQL can.
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
