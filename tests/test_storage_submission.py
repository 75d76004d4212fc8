"""What is stored around a submission, through the real dialog and `bot.runner.DialogRunner`: the
reminder choice, withdrawing consent, /mine_data, the submission with its outbox entry in one
transaction, receipt dates in Norwegian time and /status for every status a request can have.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import storage.conversations
from bot.runner import DialogRunner, Turn
from dialogs import choices as c
from dialogs.draft import Conversation, DraftPlan, Language
from dialogs.events import ChoiceEvent, Effect, Event, Reply, TextEvent
from dialogs.machine import Dialog
from dialogs.prompts import prompt_for
from dialogs.render import message, render
from dialogs.review import local_date
from dialogs.steps import Step
from storage.conversations import load_conversation
from storage.models import (
    OutboxEntry,
    StoredAnswer,
    StoredConversation,
    StoredDraft,
    Submission,
)
from storage.units import default_router
from tests.conftest import FIXED_NOW

NB, NN = Language.BOKMAL, Language.NYNORSK
CHANNEL = "terminal"
CHAT = "submission-1"
SECRET = "Et svar som skal bort 4c1d"
GULEN_UNIT = "gulen-koordinerande-eining"

# Sent at 23:30 UTC on 31 January: 00:30 on 1 February in Norway (UTC+1 in winter).
LATE_EVENING_UTC = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)


def play(runner: DialogRunner, steps: Iterable[str], chat: str = CHAT) -> Turn:
    """"text:..." is written, "/..." a command, anything else an option pressed."""
    turn = None
    for step in steps:
        event: Event = (TextEvent(step.removeprefix("text:")) if step.startswith("text:")
                        else TextEvent(step) if step.startswith("/") else ChoiceEvent(step))
        turn = runner.handle(CHANNEL, chat, event)
        assert turn.replies[0].text != message(None, "error.internal"), step
    assert turn is not None
    return turn


def to_consent(language: Language = NB) -> list[str]:
    return [language.value, "continue", "consent"]


def to_review(language: Language = NB, reminder: str = "no",
              municipality: str = "Gulen") -> list[str]:
    return [*to_consent(language), reminder, "self", "coordinator_only", f"text:{SECRET}",
            *["/hopp"] * 5, "skip", "skip", "text:Ola Nordmann", "text:912 34 567", "/hopp",
            f"text:{municipality}"]


def stored(engine: Engine, chat: str = CHAT) -> Conversation:
    with Session(engine) as session:
        return load_conversation(session, channel=CHANNEL, chat_id=chat)


def row_of(session: Session, chat: str = CHAT) -> StoredConversation:
    return session.exec(select(StoredConversation).where(
        StoredConversation.channel == CHANNEL, StoredConversation.chat_id == chat)).one()


def texts(turn: Turn) -> list[str]:
    return [reply.text for reply in turn.replies]


# -- the reminder ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("answer", "wanted"), [("yes", True), ("no", False)])
def test_the_reminder_choice_is_stored(runner: DialogRunner, engine: Engine, answer: str,
                                       wanted: bool) -> None:
    turn = play(runner, to_consent())
    assert turn.step is Step.CHOOSE_REMINDER
    assert message(NB, "reminder.explained").format(days=30) in texts(turn)
    assert turn.replies[-1].text == message(NB, "ask_reminder")
    assert [o.id for o in turn.replies[-1].options] == [c.YES_REMIND.id, c.NO_REMIND.id]
    with Session(engine) as session:
        assert row_of(session).wants_reminder is None  # not asked yet, so not chosen
    turn = play(runner, [answer])
    assert turn.step is Step.CHOOSE_ROLE
    with Session(engine) as session:
        assert row_of(session).wants_reminder is wanted
    assert stored(engine).wants_reminder is wanted
    # Going back shows the choice, and it can be changed.
    turn = play(runner, ["/tilbake"])
    assert turn.step is Step.CHOOSE_REMINDER
    chosen = c.YES_REMIND if wanted else c.NO_REMIND
    labels = {o.id: o.label for o in turn.replies[-1].options}
    assert labels[chosen.id] == message(NB, "option.selected").format(
        label=message(NB, chosen.key))
    play(runner, ["no" if wanted else "yes"])
    with Session(engine) as session:
        assert row_of(session).wants_reminder is (not wanted)


def test_the_reminder_notice_uses_the_operators_retention(engine: Engine) -> None:
    runner = DialogRunner(engine, dialog=Dialog(router=default_router(), draft_retention_days=14),
                          clock=lambda: FIXED_NOW)
    turn = play(runner, to_consent(NN))
    assert message(NN, "reminder.explained").format(days=14) in texts(turn)


# -- withdrawing consent --------------------------------------------------------------------------

def test_withdrawing_consent_asks_first_then_deletes_the_draft(runner: DialogRunner,
                                                              engine: Engine) -> None:
    play(runner, [*to_review(reminder="yes")[:-3]])  # some answers given, nothing sent
    with Session(engine) as session:
        row = row_of(session)
        assert row.current_draft_id is not None
        assert row.consented_at == FIXED_NOW
        assert row.wants_reminder is True
        draft_id = row.current_draft_id
        assert session.exec(select(StoredAnswer).where(StoredAnswer.draft_id == draft_id)).all()
    turn = play(runner, ["/trekk_samtykke"])
    assert turn.step is Step.CONFIRM_WITHDRAW
    assert turn.replies[-1].text == message(NB, "ask_confirm_withdraw")
    # "No": nothing changes, back to the question.
    turn = play(runner, [c.NO_KEEP_GOING.id])
    assert turn.step is Step.GIVE_PHONE
    with Session(engine) as session:
        row = row_of(session)
        assert (row.current_draft_id, row.consented_at) == (draft_id, FIXED_NOW)
    turn = play(runner, ["/trekk_samtykke", c.YES_WITHDRAW.id])
    assert turn.step is Step.DECLINED
    assert texts(turn)[0] == message(NB, "consent.withdrawn")
    assert "/start" in texts(turn)[-1]  # the way on
    with Session(engine) as session:
        row = row_of(session)
        assert (row.step, row.consented_at, row.current_draft_id, row.wants_reminder) == (
            "declined", None, None, None)
        assert row.declined_at == FIXED_NOW
        assert session.get(StoredDraft, draft_id) is None
        assert session.exec(select(StoredAnswer)).all() == []
        assert session.exec(select(Submission)).all() == []
        assert session.exec(select(OutboxEntry)).all() == []
    conv = stored(engine)
    assert conv.draft == DraftPlan()
    assert (conv.consented_at, conv.history) == (None, [])
    # Writing on stores nothing; /start begins again and asks for consent.
    play(runner, [f"text:{SECRET}"])
    with Session(engine) as session:
        assert session.exec(select(StoredAnswer)).all() == []
    turn = play(runner, ["/start", "continue"])
    assert turn.step is Step.GIVE_CONSENT


def test_withdrawing_before_consent_has_nothing_to_withdraw(runner: DialogRunner,
                                                           engine: Engine) -> None:
    turn = play(runner, ["nb", "/trekk_samtykke"])
    assert texts(turn)[0] == message(NB, "consent.nothing_to_withdraw")
    assert turn.step is Step.READ_INTRO
    with Session(engine) as session:
        assert row_of(session).declined_at is None


# -- /mine_data -----------------------------------------------------------------------------------

def test_my_data_asks_the_host_for_the_export_and_changes_nothing() -> None:
    dialog = Dialog(router=default_router())
    conv = Conversation()
    for option in ["nb", "continue", "consent", "no", "self"]:
        dialog.handle(conv, ChoiceEvent(option), FIXED_NOW)
    before = (conv.step, conv.draft, conv.consented_at, list(conv.history))
    for command in ("/mine_data", "/my_data"):
        outcome = dialog.handle(conv, TextEvent(command), FIXED_NOW)
        assert outcome.effects == [Effect.EXPORT_MY_DATA]
        assert outcome.replies[0].key == "my_data.sent"
        assert outcome.replies[1:] == prompt_for(conv)  # then the question again
        assert outcome.replies[-1].key == "ask_request.self"
        assert (conv.step, conv.draft, conv.consented_at, list(conv.history)) == before


def test_my_data_through_the_runner_keeps_the_conversation(runner: DialogRunner,
                                                          engine: Engine) -> None:
    play(runner, to_review()[:6])
    before = stored(engine)
    turn = play(runner, ["/mine_data"])
    assert texts(turn)[0] == message(NB, "my_data.sent")
    assert turn.step is before.step
    assert stored(engine).draft == before.draft


# -- the submission and its outbox entry ----------------------------------------------------------

def test_sending_writes_the_submission_and_its_outbox_entry(runner: DialogRunner,
                                                           engine: Engine) -> None:
    play(runner, [*to_review(), "send"])
    with Session(engine) as session:
        [submission] = session.exec(select(Submission)).all()
        [entry] = session.exec(select(OutboxEntry)).all()
        assert (submission.status, submission.unit_id, submission.municipality_number) == (
            "sent", GULEN_UNIT, "4635")
        assert (entry.submission_id, entry.unit_id, entry.status) == (
            submission.id, GULEN_UNIT, "pending")
        assert (entry.target_group, entry.district) == (None, None)
        assert entry.next_attempt_at == FIXED_NOW


def test_a_send_that_cannot_be_queued_stores_no_submission(
        runner: DialogRunner, engine: Engine) -> None:
    """The submission and its outbox entry are one transaction: neither without the other."""
    play(runner, to_review())

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the outbox is not writable")

    # A patch of its own, undone alone (the test's monkeypatch also holds the encryption key).
    with pytest.MonkeyPatch.context() as refusing:
        refusing.setattr(storage.conversations, "enqueue_delivery", refuse)
        turn = runner.handle(CHANNEL, CHAT, ChoiceEvent("send"))
    assert texts(turn) == [message(None, "error.internal")]
    with Session(engine) as session:
        assert session.exec(select(Submission)).all() == []
        assert session.exec(select(OutboxEntry)).all() == []
    conv = stored(engine)
    assert (conv.step, conv.submission) == (Step.REVIEW, None)
    turn = play(runner, ["send"])
    assert turn.step is Step.SENT
    with Session(engine) as session:
        assert len(session.exec(select(Submission)).all()) == 1
        assert len(session.exec(select(OutboxEntry)).all()) == 1


# -- dates in Norwegian time ----------------------------------------------------------------------

def test_local_date_is_the_date_in_norway() -> None:
    assert local_date(LATE_EVENING_UTC) == date(2026, 2, 1)
    assert local_date(datetime(2026, 1, 31, 22, 59, tzinfo=UTC)) == date(2026, 1, 31)
    assert local_date(datetime(2026, 7, 31, 22, 30, tzinfo=UTC)) == date(2026, 8, 1)  # UTC+2
    assert local_date(datetime(2026, 7, 31, 21, 59, tzinfo=UTC)) == date(2026, 7, 31)
    # Every stored time and every clock is aware: a naive one is a mistake, not a guess.
    with pytest.raises(ValueError, match="naive"):
        local_date(datetime(2026, 1, 31, 23, 30))


@pytest.mark.parametrize("language", [NB, NN])
def test_a_request_sent_half_past_midnight_in_norway_is_due_on_1_march(
        engine: Engine, language: Language) -> None:
    runner = DialogRunner(engine, clock=lambda: LATE_EVENING_UTC)
    turn = play(runner, [*to_review(language), "send"])
    assert turn.step is Step.SENT
    # Sent on 1 February in Norway, so the answer is due a month later: 1 March, not
    # 28 February (as the UTC date, 31 January, would give).
    deadline = message(language, "receipt.deadline").format(deadline="1. mars 2026")
    assert deadline in texts(turn)
    assert not [text for text in texts(turn) if "28. februar" in text]
    with Session(engine) as session:
        [submission] = session.exec(select(Submission)).all()
        assert submission.submitted_at == LATE_EVENING_UTC  # stored as it happened
    turn = play(runner, ["/status"])
    reference = stored(engine).submission
    assert reference is not None
    shown = f"{reference.reference[:4]}-{reference.reference[4:]}"
    assert texts(turn)[0] == message(language, "status.sent").format(
        reference=shown, sent_on="1. februar 2026", deadline="1. mars 2026")


# -- /status for each status ----------------------------------------------------------------------

STATUS_CHANGED = datetime(2026, 2, 3, 23, 15, tzinfo=UTC)  # 4 February in Norway


def _sent(runner: DialogRunner, engine: Engine, language: Language, chat: str) -> str:
    play(runner, [*to_review(language), "send"], chat=chat)
    conv = stored(engine, chat)
    assert conv.submission is not None
    return conv.submission.reference


def _set_status(engine: Engine, reference: str, status: str, changed: datetime | None) -> None:
    with Session(engine) as session:
        submission = session.exec(select(Submission).where(
            Submission.reference == reference)).one()
        submission.status, submission.status_changed_at = status, changed
        session.add(submission)
        session.commit()


STATUS_WORDS = {
    # What each status says beyond its placeholders, in nb and nn, so a swapped text is caught.
    ("sent", NB): "ble sendt", ("sent", NN): "vart send",
    ("saved", NB): "ikke sendt", ("saved", NN): "ikkje sendt",
    ("received", NB): "bekreftet", ("received", NN): "stadfesta",
    ("in_progress", NB): "arbeidet med", ("in_progress", NN): "arbeidd med",
    ("closed", NB): "ferdig med", ("closed", NN): "ferdig med",
}


@pytest.mark.parametrize("language", [NB, NN])
@pytest.mark.parametrize("status", ["sent", "saved", "received", "in_progress", "closed"])
def test_status_says_where_the_request_stands(runner: DialogRunner, engine: Engine,
                                             language: Language, status: str) -> None:
    chat = f"status-{status}-{language.value}"
    reference = _sent(runner, engine, language, chat)
    changed = None if status in ("sent", "saved") else STATUS_CHANGED
    _set_status(engine, reference, status, changed)
    turn = play(runner, ["/status"], chat=chat)
    expected = render(language, Reply(f"status.{status}", {
        "reference": f"{reference[:4]}-{reference[4:]}",
        "sent_on": date(2026, 1, 31),
        "deadline": date(2026, 2, 28),
        "changed_on": date(2026, 2, 4) if changed else date(2026, 1, 31),
    })).text
    assert texts(turn)[0] == expected
    assert STATUS_WORDS[(status, language)] in expected
    if status in ("received", "in_progress", "closed"):
        assert "4. februar 2026" in expected  # the change, on its date in Norway
    if status in ("sent", "received", "in_progress"):
        assert "28. februar 2026" in expected
    assert "/start" in texts(turn)[-1]  # and the way on from the receipt
    conv = stored(engine, chat)
    assert conv.submission is not None
    assert (conv.submission.status, conv.submission.status_changed_at) == (status, changed)
