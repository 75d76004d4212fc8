"""A conversation's lock: one turn of a chat at a time, across every process on the database.

Several `dinplan run --webhook` processes may each get an update of the same chat. Each turn
takes its chat's lock as the first statement of its transaction and holds it until the commit or
rollback, so the turns of one chat run one after another, and each loads what the one before it
committed (PostgreSQL's READ COMMITTED takes a fresh snapshot per statement, after the lock).

- PostgreSQL: a transaction-level advisory lock on `hashtext(channel || ':' || chat_id)`. It needs
  no row (a chat's first update has none yet) and the server releases it at the end of the
  transaction, also when the client dies. Two chats whose keys share a 32-bit hash merely wait for
  each other.
- SQLite: the database's one write lock, taken at once by a write that changes nothing (what
  BEGIN IMMEDIATE would do; pysqlite starts a transaction before it). Every turn of every chat
  then runs one at a time, which is what SQLite does with writers anyway. A bot process queues
  its turns in one thread (`one_writer_at_a_time`, bot/telegram/handlers.py), so turns never
  wait for each other in SQLite's busy handler; the other writers (the bot's jobs, the inbox,
  a command) wait there, up to `busy_timeout` (storage/db.py).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

# The one-key (bigint) form; hashtext gives a 32-bit int. Any other advisory lock in this database
# should use the two-key form, whose key space PostgreSQL keeps apart from this one.
_ADVISORY = text("SELECT pg_advisory_xact_lock(hashtext(:key))")
_SQLITE_WRITE_LOCK = text("UPDATE processed_update SET update_id = update_id WHERE 0")


def conversation_key(channel: str, chat_id: str) -> str:
    return f"{channel}:{chat_id}"


def lock_conversation(session: Session, *, channel: str, chat_id: str) -> None:
    """Wait for the chat's lock and hold it until this transaction ends.

    Call it first in the transaction: what was read before it may be older than the last turn.
    """
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(_ADVISORY, {"key": conversation_key(channel, chat_id)})
    elif dialect == "sqlite":
        connection.execute(_SQLITE_WRITE_LOCK)
    else:  # pragma: no cover - only the two engines are supported
        raise NotImplementedError(f"no conversation lock for {dialect}")
