"""Alembic environment: the models' metadata, and the URL from `storage.migrate`."""

from __future__ import annotations

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


def _run(connection: Connection) -> None:
    # Batch mode lets SQLite alter tables the way PostgreSQL can.
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
