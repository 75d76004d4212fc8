"""What the `dinplan` commands that work on the database share: a database error gets one line
saying what to do, not a traceback. It lives in storage so that the bot's commands and the
inbox's (which never import bot/) use the same one."""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DatabaseError

Command = Callable[[argparse.Namespace], int]


def schema_errors(command: Command) -> Command:
    """On a database error, look at the database (DINPLAN_DATABASE_URL, as the commands do):

    - it cannot be opened (server down, wrong password, a path SQLite cannot open): exit 2;
    - its schema is not the code's (never migrated, behind, ahead): run `dinplan db upgrade`,
      exit 2;
    - its schema is current: the command failed with a database error, exit 1.

    Only the error's type is printed: its message may quote the statement and its values.
    """
    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        # OperationalError, ProgrammingError and the rest: what the driver said went wrong.
        except DatabaseError as error:
            return _explain(type(error).__name__)
    return run


def _explain(error_type: str) -> int:
    from storage.settings import get_settings

    # alembic is imported here, on an error only (it is slow to import), and quietly: it logs
    # its set-up at INFO, and the answer is the one line below.
    with _quiet("alembic"):
        from storage.migrate import SchemaStatus, check_schema

        status = check_schema(get_settings().database_url).status
    if status is SchemaStatus.NOT_REACHABLE:
        print(f"dinplan: cannot open the database (DINPLAN_DATABASE_URL): {error_type}",
              file=sys.stderr)
        return 2
    if status is SchemaStatus.NOT_CURRENT:
        print(f"dinplan: the database is not ready ({error_type}); run `dinplan db upgrade` "
              "first", file=sys.stderr)
        return 2
    print(f"dinplan: the command failed with a database error ({error_type}); the schema is "
          "up to date", file=sys.stderr)
    return 1


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Only warnings and errors from the `name` logger within the block."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)
