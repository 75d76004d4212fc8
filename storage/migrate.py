"""Schema migrations with alembic, run from code (`dinplan db upgrade`) and from tests, and how a
database's schema stands to them (`check_schema`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from storage.db import configured_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


class SchemaStatus(Enum):
    """How a database's schema stands to this code's migrations."""

    NOT_REACHABLE = "not reachable"  # no connection, or its revision could not be read
    NOT_CURRENT = "not current"  # behind the code (never migrated, too), or ahead of it
    CURRENT = "current"


@dataclass(frozen=True)
class SchemaCheck:
    status: SchemaStatus
    error: SQLAlchemyError | None = None  # why NOT_REACHABLE; show its type, not its message


def check_schema(database_url: str) -> SchemaCheck:
    """The database's revisions (its alembic_version table; none if it was never migrated)
    against the migrations' heads. Only reads: no table is made, not even alembic_version (a
    SQLite file that is not there is made empty, as any connection to it would)."""
    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    with configured_engine(database_url) as engine:
        try:
            with engine.connect() as connection:
                current = set(MigrationContext.configure(connection).get_current_heads())
        except SQLAlchemyError as error:
            return SchemaCheck(SchemaStatus.NOT_REACHABLE, error)
    return SchemaCheck(SchemaStatus.CURRENT if current == heads else SchemaStatus.NOT_CURRENT)
