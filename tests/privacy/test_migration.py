"""Revision 0006 encrypts the rows already there with the configured key and decrypts them on
downgrade, on both engines, without losing a row (SQLite must not cascade a table rebuild)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.conversations import load_conversation
from storage.crypto import active_keyring
from storage.db import unit_of_work
from storage.migrate import downgrade, upgrade

WHEN = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
CLEAR = {
    "person_name": "Ingrid Kanarinavn",
    "coordinator_wish": "Fastlegen KANARIONSKE",
    "contact_name": "Kari Kanarikontakt",
    "phone": "+47 91 35 72 46",
    "reach_time": "Etter KANARITID",
}
ANSWER = "Svar KANARISVAR7Q med æ, ø og å"
COUNTED = ("conversation", "draft_plan", "answer", "submission", "outbox")


def _insert_clear_rows(engine: Engine) -> None:
    """What a Din plan at revision 0005 wrote: names, phone and answers in clear text."""
    with engine.begin() as db:
        db.execute(text(
            "INSERT INTO conversation (id, channel, chat_id, step, language, history, editing, "
            "reached_review, turn, municipality_suggestions, consented_at, consent_version, "
            "current_draft_id, created_at, updated_at) VALUES (1, 'telegram', '4242', "
            "'ask_what_first', 'nn', '[]', false, false, 9, '[]', :at, '1', 1, :at, :at)"),
            {"at": WHEN})
        db.execute(text(
            "INSERT INTO draft_plan (id, conversation_id, role, services, services_answered, "
            "person_name, coordinator_wish, contact_name, phone, reach_time, "
            "municipality_number, created_at, updated_at) VALUES (1, 1, 'relative', '[]', "
            "false, :person_name, :coordinator_wish, :contact_name, :phone, :reach_time, "
            "'4635', :at, :at)"), {**CLEAR, "at": WHEN})
        db.execute(text("INSERT INTO answer (id, draft_id, question, text, shared) VALUES "
                        "(1, 1, 'ask_strengths', :answer, true), "
                        "(2, 1, 'ask_what_first', NULL, true)"), {"answer": ANSWER})
        db.execute(text(
            "INSERT INTO submission (id, draft_id, conversation_id, reference, "
            "municipality_number, status, submitted_at) VALUES (1, 1, 1, 'AB12CDEF', '4635', "
            "'sent', :at)"), {"at": WHEN})
        db.execute(text(
            "INSERT INTO outbox (id, submission_id, unit_id, status, attempts, next_attempt_at, "
            "created_at) VALUES (1, 1, 'gulen-koordinerande-eining', 'pending', 0, :at, :at)"),
            {"at": WHEN})


def _raw(engine: Engine) -> tuple[dict[str, str | None], list[str | None]]:
    with engine.connect() as db:
        draft = db.execute(text(
            "SELECT person_name, coordinator_wish, contact_name, phone, reach_time "
            "FROM draft_plan WHERE id = 1")).one()._asdict()
        answers = [r[0] for r in db.execute(text("SELECT text FROM answer ORDER BY id"))]
    return draft, answers


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as db:
        return {name: db.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                for name in COUNTED}


def test_upgrade_encrypts_existing_rows_and_downgrade_decrypts_them(
        empty_database_url: str, empty_engine: Engine) -> None:
    upgrade(empty_database_url, "0005")
    _insert_clear_rows(empty_engine)
    before = _counts(empty_engine)

    upgrade(empty_database_url)
    draft, answers = _raw(empty_engine)
    ring = active_keyring()
    assert all(v is not None and v.startswith("enc1:") for v in draft.values()), draft
    assert {k: ring.decrypt(v) for k, v in draft.items() if v} == CLEAR
    assert answers[0] is not None
    assert answers[0].startswith("enc1:")
    assert ring.decrypt(answers[0]) == ANSWER
    assert answers[1] is None  # a skipped question stays NULL
    assert _counts(empty_engine) == before  # nothing cascaded away
    with unit_of_work(empty_engine) as session:
        conv = load_conversation(session, channel="telegram", chat_id="4242")
    assert conv.draft.person_name == CLEAR["person_name"]
    assert conv.draft.phone == CLEAR["phone"]
    assert conv.submission is not None
    assert conv.submission.reference == "AB12CDEF"

    downgrade(empty_database_url, "0005")
    assert _raw(empty_engine) == (CLEAR, [ANSWER, None])
    assert _counts(empty_engine) == before

    upgrade(empty_database_url)  # and again: nothing is encrypted twice
    draft, answers = _raw(empty_engine)
    assert {k: ring.decrypt(v) for k, v in draft.items() if v} == CLEAR
    assert _counts(empty_engine) == before


def test_upgrade_leaves_values_already_encrypted_alone(
        empty_database_url: str, empty_engine: Engine) -> None:
    """A value that is already a token of the ring is not wrapped in a second layer."""
    upgrade(empty_database_url, "0005")
    _insert_clear_rows(empty_engine)
    token = active_keyring().encrypt(ANSWER)
    with empty_engine.begin() as db:
        db.execute(text("UPDATE answer SET text = :t WHERE id = 1"), {"t": token})
    upgrade(empty_database_url)
    assert _raw(empty_engine)[1][0] == token
