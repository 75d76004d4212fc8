"""What docs/DEPLOY.md says about backups: a `pg_dump -Fc` archive, restored with
`pg_restore --no-owner` into an empty database, gives a database `dinplan run` accepts as up to
date, whose conversations read back the same with the same encryption key and not at all
without it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select

from bot.telegram.app import ensure_schema
from dialogs.draft import Conversation
from storage import crypto
from storage.conversations import load_conversation
from storage.crypto import EncryptionKeyError, Keyring, new_key, parse_key
from storage.db import make_engine
from storage.models import StoredConversation, utcnow
from storage.settings import Settings
from tests.forwarding.helpers import CANARY
from tests.multiprocess.helpers import queue_request
from tests.pg import Databases, find_bin_dir


def libpq(url: str) -> str:
    """The URL as PostgreSQL's own tools take it (no driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def conversations(engine: Engine) -> dict[str, Conversation]:
    with Session(engine) as session:
        chats = session.exec(select(StoredConversation.chat_id)).all()
        return {chat: load_conversation(session, channel="test", chat_id=chat) for chat in chats}


def test_a_dump_restores_into_a_database_the_bot_runs_on(
        postgres_url: str, postgres_databases: Databases, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(postgres_url)
    try:
        for _ in range(3):
            queue_request(engine, submitted_at=utcnow())
        before = conversations(engine)
    finally:
        engine.dispose()
    tools = find_bin_dir()
    archive = tmp_path / "dinplan.dump"
    subprocess.run([str(tools / "pg_dump"), "--format=custom", f"--file={archive}",
                    f"--dbname={libpq(postgres_url)}"], check=True, capture_output=True,
                   timeout=60)
    assert CANARY.encode() not in archive.read_bytes()  # what people wrote is encrypted in it

    restored_url = postgres_databases.url(postgres_databases.create(label="restored"))
    subprocess.run([str(tools / "pg_restore"), "--no-owner", "--exit-on-error",
                    f"--dbname={libpq(restored_url)}", str(archive)], check=True,
                   capture_output=True, timeout=60)
    # `dinplan run` refuses a schema behind the code; the restored one is current.
    ensure_schema(restored_url, embedded_default=Settings.model_fields["database_url"].default)
    restored = make_engine(restored_url)
    try:
        after = conversations(restored)
        assert len(after) == 3
        assert after == before
        # Without the key the backup is of no use: nothing of what people wrote can be read.
        monkeypatch.setattr(crypto._ActiveKeyring, "ring", Keyring([parse_key(new_key())]))
        with pytest.raises(EncryptionKeyError):
            conversations(restored)
    finally:
        restored.dispose()
