"""`dinplan keys new` and `dinplan keys rotate`: every encrypted column of every table goes to a
new key without losing a draft, with the key file and with keys in the environment, on both
engines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Text, column, select, table, text
from sqlalchemy.engine import Engine
from sqlmodel import select as typed_select

from bot.delivery import DeliveryWorker
from dialogs.draft import Conversation
from dialogs.steps import Step
from storage import crypto
from storage.conversations import load_conversation
from storage.crypto import (
    EncryptionKeyError,
    Keyring,
    active_keyring,
    encrypted_columns,
    key_id,
    new_key,
    parse_key,
    read_key_file,
    rotate_key_file,
    rotate_to_current,
    stale_values,
    use_keyring,
    write_key_file,
)
from storage.db import unit_of_work
from storage.models import DeliveredRequest
from storage.staff import add_note, add_staff
from storage.units import default_directory
from tests.conftest import ROOT
from tests.privacy.helpers import Clock, Person, runner_for


def tokens(engine: Engine) -> list[str]:
    """Every encrypted value in the database, as stored."""
    found = []
    with engine.connect() as connection:
        for name, columns in encrypted_columns().items():
            raw = table(name, *(column(c, Text()) for c in columns))
            found += [v for row in connection.execute(select(*raw.c)) for v in row if v]
    return found


def fill(engine: Engine, clock: Clock) -> dict[str, Conversation]:
    """Drafts, a sent and delivered request, a staff account and a note: every encrypted
    column of every table holds something. What each person sees, to compare after."""
    runner = runner_for(engine, clock)
    Person(runner, "rotate-1").send_request()
    Person(runner, "rotate-2").go_to(Step.GIVE_CONTACT_NAME)
    DeliveryWorker(engine, default_directory(), clock=clock).run_once_sync()
    with unit_of_work(engine) as session:
        staff, _token = add_staff(session, unit_id="gulen-koordinerande-eining", name="Siri",
                                  now=clock())
        request = session.exec(typed_select(DeliveredRequest)).one()
        assert request.id is not None
        add_note(session, staff=staff, delivered_request_id=request.id, text="Notat",
                 now=clock())
    return seen(engine)


def seen(engine: Engine) -> dict[str, Conversation]:
    with unit_of_work(engine) as session:
        return {chat: load_conversation(session, channel="terminal", chat_id=chat)
                for chat in ("rotate-1", "rotate-2")}


def documents(engine: Engine) -> list[str]:
    with unit_of_work(engine) as session:
        return [r.document for r in session.exec(typed_select(DeliveredRequest))]


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keys from a key file, as in a deployment without DINPLAN_ENCRYPTION_KEY."""
    path = tmp_path / "dinplan.key"
    write_key_file(path, [new_key()])
    use_keyring(Keyring(read_key_file(path)), key_file=path)
    monkeypatch.delenv("DINPLAN_ENCRYPTION_KEY")
    monkeypatch.setenv("DINPLAN_ENCRYPTION_KEY_FILE", str(path))
    return path


def test_keys_new_prints_a_key() -> None:
    result = subprocess.run([sys.executable, "-m", "bot.cli", "keys", "new"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=True)
    assert len(parse_key(result.stdout.strip())) == 32


def test_rotating_the_key_file(engine: Engine, clock: Clock, key_file: Path) -> None:
    before = fill(engine, clock)
    old = read_key_file(key_file)[0]
    inbox_copy = documents(engine)
    assert {t.split(":")[1] for t in tokens(engine)} == {key_id(old)}
    covered = set(encrypted_columns())
    assert {"draft_plan", "answer", "delivered_request", "staff_account", "internal_note"} \
        <= covered

    rotation = rotate_key_file(engine, key_file, settle_seconds=0)

    [new] = read_key_file(key_file)
    assert new != old
    assert rotation.new_key_id == key_id(new)
    assert rotation.dropped_key_ids == (key_id(old),)
    assert rotation.reencrypted == len(tokens(engine))
    assert {t.split(":")[1] for t in tokens(engine)} == {key_id(new)}
    assert stale_values(engine, Keyring([new])) == 0
    # Nothing lost: every draft, answer and the unit's copy read as before, with the new key.
    use_keyring(Keyring([new]))
    assert seen(engine) == before
    assert documents(engine) == inbox_copy
    with pytest.raises(EncryptionKeyError):
        Keyring([old]).decrypt(tokens(engine)[0])


def test_a_running_process_follows_the_key_file(key_file: Path) -> None:
    [old] = read_key_file(key_file)
    assert active_keyring().current_id == key_id(old)
    written_before = active_keyring().encrypt("skrive før")
    # Another process (`dinplan keys rotate`) writes the new key first, the old one kept ...
    new = new_key()
    write_key_file(key_file, [new, crypto.key_text(old)])
    ring = active_keyring()
    assert ring.current_id == key_id(parse_key(new))
    assert ring.decrypt(written_before) == "skrive før"
    written_during = ring.encrypt("skrive under")
    assert written_during.startswith(f"enc1:{key_id(parse_key(new))}:")
    # ... and drops the old one at the end.
    write_key_file(key_file, [new])
    assert active_keyring().decrypt(written_during) == "skrive under"
    assert active_keyring().key_ids == (key_id(parse_key(new)),)


def test_a_key_set_by_hand_is_not_replaced_by_the_file(key_file: Path) -> None:
    mine = Keyring([parse_key(new_key())])
    use_keyring(mine)
    write_key_file(key_file, [new_key()])
    assert active_keyring() is mine


def test_an_interrupted_rotation_loses_nothing(engine: Engine, clock: Clock, key_file: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    before = fill(engine, clock)
    [old] = read_key_file(key_file)

    def fail(*args: object, **kwargs: object) -> int:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(crypto, "reencrypt_all", fail)
    with pytest.raises(ConnectionError):
        rotate_key_file(engine, key_file, settle_seconds=0)
    # The new key was written first, with the old one kept: everything still reads.
    keys = read_key_file(key_file)
    assert len(keys) == 2
    assert keys[1] == old
    use_keyring(Keyring(keys), key_file=key_file)
    assert seen(engine) == before
    # Running it again finishes the job.
    monkeypatch.undo()
    use_keyring(Keyring(keys), key_file=key_file)
    rotate_key_file(engine, key_file, settle_seconds=0)
    [final] = read_key_file(key_file)
    use_keyring(Keyring([final]))
    assert seen(engine) == before
    assert {t.split(":")[1] for t in tokens(engine)} == {key_id(final)}


def test_rotation_is_one_transaction(engine: Engine, clock: Clock, key_file: Path) -> None:
    """A value no key opens stops the rotation, and nothing of it is written."""
    fill(engine, clock)
    stranger = Keyring([parse_key(new_key())]).encrypt("fremmed")
    with engine.begin() as connection:
        connection.execute(text("UPDATE internal_note SET text = :t"), {"t": stranger})
    stored = tokens(engine)
    with pytest.raises(EncryptionKeyError):
        rotate_key_file(engine, key_file, settle_seconds=0)
    assert tokens(engine) == stored


def test_rotating_keys_in_the_environment(engine: Engine, clock: Clock) -> None:
    before = fill(engine, clock)
    old = active_keyring()
    new = new_key()
    # DINPLAN_ENCRYPTION_KEY="NEW,OLD": new values under NEW, old ones still read.
    setting = f"{new},{os.environ['DINPLAN_ENCRYPTION_KEY']}"
    ring = crypto.load_keyring(key_setting=setting, key_file=Path("/nonexistent"),
                               create_if_missing=False)
    use_keyring(ring)
    rotation = rotate_to_current(engine, ring)
    assert rotation.reencrypted == len(tokens(engine))
    assert rotation.dropped_key_ids == (old.current_id,)
    # DINPLAN_ENCRYPTION_KEY="NEW" alone reads everything.
    use_keyring(Keyring([parse_key(new)]))
    assert seen(engine) == before


def _dinplan(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_dinplan_keys_rotate_with_the_key_file(engine: Engine, database_url: str,
                                               clock: Clock, key_file: Path) -> None:
    before = fill(engine, clock)
    env = {**os.environ, "DINPLAN_DATABASE_URL": database_url,
           "DINPLAN_ENCRYPTION_KEY_FILE": str(key_file), "DINPLAN_LOG_LEVEL": "WARNING"}
    env.pop("DINPLAN_ENCRYPTION_KEY", None)
    result = _dinplan("keys", "rotate", "--settle", "0", env=env)
    assert result.returncode == 0, result.stderr
    assert "re-encrypted" in result.stdout
    [new] = read_key_file(key_file)
    use_keyring(Keyring([new]))
    assert seen(engine) == before


def test_dinplan_keys_rotate_with_one_key_in_the_environment_says_how(
        database_url: str, encryption_key: str) -> None:
    env = {**os.environ, "DINPLAN_DATABASE_URL": database_url,
           "DINPLAN_ENCRYPTION_KEY": encryption_key}
    result = _dinplan("keys", "rotate", env=env)
    assert result.returncode == 2
    assert "NEW,OLD" in result.stderr
    assert "Traceback" not in result.stderr
