"""What the `dinplan` commands that work on the database share: a database without the tables
they need gets a hint, not a traceback. It lives in storage so that the bot's commands and the
inbox's (which never import bot/) use the same one."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from sqlalchemy.exc import OperationalError, ProgrammingError

Command = Callable[[argparse.Namespace], int]


def schema_errors(command: Command) -> Command:
    """A database error says to run `dinplan db upgrade` (exit 2); only its type is printed,
    since its message may quote the values of the statement."""
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (OperationalError, ProgrammingError) as error:
            print(f"dinplan: the database is not ready ({type(error).__name__}); run "
                  "`dinplan db upgrade` first", file=sys.stderr)
            return 2
    return run
