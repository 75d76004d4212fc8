"""Conversations in the database, through the one unit of work per turn (`bot.runner`).

Every test takes the `engine` (or `runner`) fixture and uses only SQLAlchemy and sqlmodel, never
SQL of one engine, so the same tests run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import MetaData, String, Text
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.runner import DialogRunner, Turn
from dialogs import choices as c
from dialogs.draft import Conversation, Language, Role
from dialogs.events import ChoiceEvent, Event, TextEvent
from dialogs.machine import Dialog
from dialogs.reference import ALPHABET
from dialogs.render import message
from dialogs.steps import QUESTION_STEPS, Step
from storage.conversations import load_conversation
from storage.models import (
    OutboxEntry,
    StoredAnswer,
    StoredConversation,
    StoredDraft,
    Submission,
    table_of,
)
from storage.units import default_router
from tests.conftest import FIXED_NOW, statements_run

CHANNEL = "terminal"
CHAT = "kari-4242"
OTHER_CHAT = "ola-1717"
SECRET = "Min hemmelige styrke 7f3a"  # an answer that must not outlive an erasure


def _event(step: str) -> Event:
    """"text:..." is typed text, "/..." a command, anything else an option pressed."""
    if step.startswith("text:"):
        return TextEvent(step.removeprefix("text:"))
    if step.startswith("/"):
        return TextEvent(step)
    return ChoiceEvent(step)


def script(role: Role = Role.SELF, first_answer: str = SECRET) -> list[str]:
    """To the review: Bergen (from a typo's suggestion), elderly in Fana."""
    who = ["self"] if role is Role.SELF else ["relative", "text:Kari", "parent", "person_agrees"]
    answers = [f"text:Svar {number}" for number in range(2, len(QUESTION_STEPS) + 1)]
    return ["nb", "continue", "consent", "no", *who, "plan_and_coordinator",
            f"text:{first_answer}", *answers, "gp", "nav", "done", "yes", "text:Fastlegen",
            "text:Ola Nordmann", "text:912 34 567", "morning", "text:Bergne", "municipality:4601",
            "elderly", "fana"]


# Where the script is: after the first answer, and after the third (at the fourth question).
FIRST_ANSWERED = script().index(f"text:{SECRET}") + 1
THIRD_ANSWERED = script().index("text:Svar 3") + 1
AFTER_ROLE = script().index("self") + 1


def play(runner: DialogRunner, steps: Iterable[str], chat: str = CHAT) -> Turn:
    turn = None
    for step in steps:
        turn = runner.handle(CHANNEL, chat, _event(step))
        assert turn.replies[0].text != message(Language.BOKMAL, "error.internal"), step
    assert turn is not None
    return turn


def stored(engine: Engine, chat: str = CHAT) -> Conversation:
    with Session(engine) as session:
        return load_conversation(session, channel=CHANNEL, chat_id=chat)


def conversation_row(session: Session, chat: str = CHAT) -> StoredConversation | None:
    return session.exec(select(StoredConversation).where(
        StoredConversation.channel == CHANNEL, StoredConversation.chat_id == chat)).first()


def drafts_of(session: Session, conversation_id: int | None) -> list[StoredDraft]:
    return list(session.exec(select(StoredDraft).where(
        StoredDraft.conversation_id == conversation_id)))


def answers_of(session: Session, draft_ids: list[int | None]) -> list[StoredAnswer]:
    return [a for a in session.exec(select(StoredAnswer)) if a.draft_id in draft_ids]


# -- every step is committed ----------------------------------------------------------------------

def test_each_step_is_committed_and_a_new_runner_continues(engine: Engine) -> None:
    """Each turn on a new runner (as after a restart) matches a dialog that never stopped."""
    dialog, expected = Dialog(router=default_router()), Conversation()
    steps = [*script(Role.RELATIVE), "/tilbake", "/tilbake", "/tilbake", "keep", "sharing",
             "ask_strengths", "done", "change", "ask_what_first", "text:Noe nytt", "send"]
    for step in steps:
        runner = DialogRunner(engine, clock=lambda: FIXED_NOW)
        turn = runner.handle(CHANNEL, CHAT, _event(step))
        outcome = dialog.handle(expected, _event(step), FIXED_NOW)
        actual = stored(engine)
        if expected.submission is not None:
            # The reference is drawn at random in each dialog; the stored one is the runner's.
            assert actual.submission is not None
            expected.submission = type(expected.submission)(
                actual.submission.reference, expected.submission.submitted_at,
                expected.submission.status, unit_name=expected.submission.unit_name)
        assert actual == expected, step
        assert turn.step is expected.step
        assert len(turn.replies) == len(outcome.replies)
        greeting = DialogRunner(engine).open(CHANNEL, CHAT)
        assert greeting.step is expected.step
        if expected.step is not Step.SENT:
            assert greeting.replies[0].text == message(Language.BOKMAL, "welcome_back")
    assert expected.step is Step.SENT
    assert (expected.wants_reminder, expected.draft.target_group, expected.draft.district) == (
        False, "elderly", "fana")
    sent = stored(engine).submission
    assert sent is not None
    assert (sent.status, sent.unit_name) == ("sent", "Vurderingskontoret Fana–Ytrebygda")


def test_a_conversation_continues_where_it_stopped_with_its_answers(engine: Engine) -> None:
    first = DialogRunner(engine, clock=lambda: FIXED_NOW)
    play(first, script()[:THIRD_ANSWERED])
    assert stored(engine).step is Step.ASK_WHAT_IT_TAKES
    engine.dispose()  # as if the process had stopped
    again = DialogRunner(engine, clock=lambda: FIXED_NOW)
    greeting = again.open(CHANNEL, CHAT)
    assert greeting.step is Step.ASK_WHAT_IT_TAKES
    texts = [reply.text for reply in greeting.replies]
    assert texts[0] == message(Language.BOKMAL, "welcome_back")
    assert "Spørsmål 4 av 6" in texts
    play(again, script()[THIRD_ANSWERED:])
    conv = stored(engine)
    assert conv.step is Step.REVIEW
    assert conv.draft.answers[Step.ASK_STRENGTHS].text == SECRET
    assert conv.draft.answers[Step.ASK_WHAT_MATTERS_EVERYDAY].text == "Svar 3"


def test_a_failed_turn_stores_nothing(engine: Engine) -> None:
    runner = DialogRunner(engine, clock=lambda: FIXED_NOW)
    play(runner, script()[:FIRST_ANSWERED])
    before = stored(engine)

    class Broken(Dialog):
        def handle(self, conv: Conversation, event: Event, now: datetime) -> Any:
            super().handle(conv, event, now)
            raise RuntimeError("boom")

    turn = DialogRunner(engine, dialog=Broken(), clock=lambda: FIXED_NOW).handle(
        CHANNEL, CHAT, TextEvent("Et svar som ikke skal lagres"))
    assert [reply.text for reply in turn.replies] == [
        message(None, "error.internal")]
    assert stored(engine) == before


# -- consent, cancel, erase -----------------------------------------------------------------------

def test_declining_stores_only_the_choice(runner: DialogRunner, engine: Engine) -> None:
    play(runner, ["nb", "continue", "decline", "text:Noe jeg skrev likevel"])
    with Session(engine) as session:
        row = conversation_row(session)
        assert row is not None
        assert (row.step, row.consented_at, row.current_draft_id) == ("declined", None, None)
        assert row.declined_at == FIXED_NOW
        assert drafts_of(session, row.id) == []
        assert list(session.exec(select(StoredAnswer))) == []


def test_declining_after_consenting_removes_the_draft(runner: DialogRunner,
                                                      engine: Engine) -> None:
    play(runner, [*script()[:FIRST_ANSWERED], *["/tilbake"] * 5])
    with Session(engine) as session:
        row = conversation_row(session)
        assert row is not None
        assert row.step == "give_consent"
        assert len(answers_of(session, [d.id for d in drafts_of(session, row.id)])) == 1
    play(runner, ["decline"])
    with Session(engine) as session:
        row = conversation_row(session)
        assert row is not None
        assert (row.step, row.consented_at, row.current_draft_id) == ("declined", None, None)
        assert drafts_of(session, row.id) == []
        assert list(session.exec(select(StoredAnswer))) == []


def test_cancel_deletes_the_draft_and_its_answers(runner: DialogRunner, engine: Engine) -> None:
    play(runner, script()[:THIRD_ANSWERED])
    with Session(engine) as session:
        row = conversation_row(session)
        assert row is not None
        draft_ids = [d.id for d in drafts_of(session, row.id)]
        assert len(draft_ids) == 1
        assert len(answers_of(session, draft_ids)) == 3
    play(runner, ["/avbryt", "yes"])
    with Session(engine) as session:
        row = conversation_row(session)
        assert row is not None
        assert (row.step, row.current_draft_id) == ("cancelled", None)
        assert drafts_of(session, row.id) == []
        assert answers_of(session, draft_ids) == []
        assert list(session.exec(select(StoredAnswer))) == []
    # Still cancelled after another message; nothing comes back.
    play(runner, ["text:hallo"])
    with Session(engine) as session:
        assert drafts_of(session, row.id) == []
    assert stored(engine).draft.answers == {}


def _ids_about(engine: Engine, metadata: MetaData, conversation_id: int) -> dict[str, set[Any]]:
    """The primary keys of every row that refers, directly or through others, to a conversation."""
    ids: dict[str, set[Any]] = {"conversation": {conversation_id}}
    with engine.connect() as connection:
        changed = True
        while changed:
            changed = False
            for table in metadata.sorted_tables:
                pk = list(table.primary_key.columns)
                if len(pk) != 1:
                    continue
                for fk in table.foreign_keys:
                    referred = ids.get(fk.column.table.name)
                    if not referred:
                        continue
                    found = set(connection.execute(core_select(pk[0]).where(
                        fk.parent.in_(referred))).scalars())
                    if not found <= ids.get(table.name, set()):
                        ids.setdefault(table.name, set()).update(found)
                        changed = True
    return ids


def _text_cells(engine: Engine, metadata: MetaData) -> list[tuple[str, str]]:
    cells: list[tuple[str, str]] = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            texts = [col for col in table.columns if isinstance(col.type, String | Text)]
            for row in connection.execute(core_select(*texts)) if texts else ():
                cells.extend((table.name, value) for value in row if isinstance(value, str))
    return cells


def test_erase_leaves_no_row_about_the_conversation(runner: DialogRunner, engine: Engine) -> None:
    play(runner, [*script(Role.RELATIVE), "send", "/start", "continue", "consent", "yes",
                  "self", "coordinator_only", f"text:{SECRET} igjen"])
    play(runner, script(first_answer="Den andre personens svar"), chat=OTHER_CHAT)
    with Session(engine) as session:
        row = conversation_row(session)
        assert row is not None
        assert row.id is not None
        conversation_id = row.id
    metadata = MetaData()
    metadata.reflect(bind=engine)
    assert {t.name for t in metadata.sorted_tables} >= {
        "conversation", "draft_plan", "answer", "submission"}
    about = _ids_about(engine, metadata, conversation_id)
    assert len(about["draft_plan"]) == 2
    assert len(about["submission"]) == 1
    assert len(about["answer"]) == len(QUESTION_STEPS) + 1
    other_before = stored(engine, OTHER_CHAT)

    turn = play(runner, ["/slett", "yes"])
    assert turn.replies[0].text == message(Language.BOKMAL, "erased")

    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            pk = list(table.primary_key.columns)
            if table.name in about and len(pk) == 1:
                left = connection.execute(core_select(pk[0]).where(
                    pk[0].in_(about[table.name]))).scalars().all()
                referring = [fk for fk in table.foreign_keys if fk.column.table.name in about]
                # Only a row that no longer refers to the person may stay (the unit's copy).
                for fk in referring:
                    still = connection.execute(core_select(pk[0]).where(
                        fk.parent.in_(about[fk.column.table.name]))).scalars().all()
                    assert not still, f"{table.name}.{fk.parent.name} still refers: {still}"
                if not referring or table.name in {"conversation", "draft_plan", "answer",
                                                   "submission"}:
                    assert not left, f"{table.name} keeps rows {left}"
    cells = _text_cells(engine, metadata)
    assert not [table for table, value in cells if value == CHAT]
    assert not [table for table, value in cells if SECRET in value]
    assert any(value == OTHER_CHAT for _, value in cells)
    # Someone else's conversation is untouched.
    assert stored(engine, OTHER_CHAT) == other_before
    # And the person starts afresh.
    fresh = stored(engine)
    assert fresh == Conversation()


# -- sending --------------------------------------------------------------------------------------

def test_sending_stores_a_submission_with_reference_and_municipality(
        runner: DialogRunner, engine: Engine) -> None:
    play(runner, [*script(), "send"])
    with Session(engine) as session:
        row = conversation_row(session)
        assert row is not None
        submissions = list(session.exec(select(Submission)))
        assert len(submissions) == 1
        submission = submissions[0]
        assert (submission.conversation_id, submission.draft_id) == (row.id, row.current_draft_id)
        assert submission.municipality_number == "4601"
        assert submission.status == "sent"
        assert submission.unit_id == "bergen-vurderingskontoret-fana-ytrebygda"
        # Queued for the unit in the same turn (one transaction with the submission).
        [entry] = session.exec(select(OutboxEntry)).all()
        assert (entry.submission_id, entry.unit_id, entry.target_group, entry.district,
                entry.status) == (submission.id, submission.unit_id, "elderly", "fana", "pending")
        assert len(submission.reference) == 8
        assert set(submission.reference) <= set(ALPHABET)
        assert submission.submitted_at == FIXED_NOW
        draft = session.get(StoredDraft, submission.draft_id)
        assert draft is not None
        assert (draft.role, draft.phone, draft.municipality_number, draft.reach_time) == (
            "self", "+47 91 23 45 67", "4601", "morning")
        assert (draft.wishes_coordinator, draft.coordinator_wish) == (True, "Fastlegen")
        assert draft.services == '["gp", "nav"]'
        answers = {a.question: a.text for a in answers_of(session, [draft.id])}
        assert answers[Step.ASK_STRENGTHS.value] == SECRET
        assert len(answers) == len(QUESTION_STEPS)
    conv = stored(engine)
    assert conv.step is Step.SENT
    assert conv.submission is not None
    assert conv.submission.reference == submission.reference


def test_a_new_draft_after_start_keeps_the_old_submission(runner: DialogRunner,
                                                          engine: Engine) -> None:
    play(runner, [*script(), "send"])
    first = stored(engine).submission
    assert first is not None
    play(runner, ["/start", "continue", "consent", "no", "relative", "text:Per"])
    with Session(engine) as session:
        row = conversation_row(session)
        assert row is not None
        drafts = {d.id: d for d in drafts_of(session, row.id)}
        assert len(drafts) == 2
        old = session.exec(select(Submission)).one()
        assert old.reference == first.reference
        assert row.current_draft_id != old.draft_id
        assert drafts[row.current_draft_id].person_name == "Per"
        assert drafts[old.draft_id].role == "self"
        assert len(answers_of(session, [old.draft_id])) == len(QUESTION_STEPS)
    conv = stored(engine)
    assert conv.draft.role is Role.RELATIVE
    assert conv.draft.answers == {}
    assert conv.submission is not None
    assert conv.submission.reference == first.reference
    play(runner, ["parent", "person_agrees", *script()[AFTER_ROLE:], "send"])
    assert stored(engine).step is Step.SENT
    with Session(engine) as session:
        references = {s.reference for s in session.exec(select(Submission))}
    second = stored(engine).submission
    assert second is not None
    assert references == {first.reference, second.reference}
    assert second.reference != first.reference


def test_status_reads_the_stored_submission(runner: DialogRunner, engine: Engine) -> None:
    play(runner, [*script(), "send"])
    reference = stored(engine).submission
    assert reference is not None
    turn = DialogRunner(engine, clock=lambda: FIXED_NOW).handle(
        CHANNEL, CHAT, TextEvent("/status"))
    shown = f"{reference.reference[:4]}-{reference.reference[4:]}"
    assert shown in turn.replies[0].text
    assert "28. februar 2026" in turn.replies[0].text
    assert c.SEND.id not in {o.id for reply in turn.replies for o in reply.options}


# -- a turn writes only what changed ---------------------------------------------------------------

def _stored_answers(engine: Engine) -> dict[str, tuple[int, str]]:
    """Each answer's row id and its text as stored (the ciphertext, not decrypted)."""
    answer = table_of(StoredAnswer)
    raw = core_select(answer.c.id, answer.c.question,
                      answer.c.text.cast(Text).label("stored"))
    with engine.connect() as connection:
        return {question: (row_id, stored_text)
                for row_id, question, stored_text in connection.execute(raw)}


def test_an_answer_not_changed_is_not_written_again(runner: DialogRunner,
                                                    engine: Engine) -> None:
    play(runner, script()[:FIRST_ANSWERED])
    before = _stored_answers(engine)[Step.ASK_STRENGTHS.value]
    play(runner, script()[FIRST_ANSWERED:THIRD_ANSWERED])
    after = _stored_answers(engine)
    # Encryption draws a new nonce each time: the same ciphertext means the row was not
    # rewritten while the next answers were given.
    assert after[Step.ASK_STRENGTHS.value] == before
    assert len(after) == 3


def test_an_edited_answer_is_updated_in_its_row(runner: DialogRunner, engine: Engine) -> None:
    play(runner, script())
    before = _stored_answers(engine)
    play(runner, ["change", "ask_strengths", "text:Noe nytt"])
    after = _stored_answers(engine)
    strengths = Step.ASK_STRENGTHS.value
    assert after[strengths][0] == before[strengths][0]
    assert after[strengths][1] != before[strengths][1]
    assert stored(engine).draft.answers[Step.ASK_STRENGTHS].text == "Noe nytt"
    unchanged = set(before) - {strengths}
    assert {q: after[q] for q in unchanged} == {q: before[q] for q in unchanged}


def test_a_turn_loads_with_two_statements(runner: DialogRunner, engine: Engine) -> None:
    """Conversation, draft and latest submission in one SELECT, the answers in another."""
    play(runner, script()[:THIRD_ANSWERED])
    with statements_run(engine) as run, Session(engine) as session:
        conv = load_conversation(session, channel=CHANNEL, chat_id=CHAT)
    statements = [statement.lstrip().split()[0].upper() for statement in run]
    assert statements == ["SELECT", "SELECT"]
    assert len(conv.draft.answers) == 3


def _row_writes(runner: DialogRunner, engine: Engine, steps: Iterable[str]) -> list[str]:
    """The INSERTs, UPDATEs and DELETEs of the conversation and draft rows these turns run, in
    order ("UPDATE conversation", "INSERT draft_plan")."""
    writes: list[str] = []
    with statements_run(engine) as run:
        play(runner, steps)
    for statement in run:
        words = statement.split()
        verb = words[0].upper()
        table = words[1] if verb == "UPDATE" else words[2] if verb in ("INSERT", "DELETE") \
            else ""
        table = table.strip('"')
        if table in ("conversation", "draft_plan"):
            writes.append(f"{verb} {table}")
    return writes


def test_a_new_conversation_is_inserted_and_not_updated(runner: DialogRunner,
                                                        engine: Engine) -> None:
    assert _row_writes(runner, engine, script()[:1]) == ["INSERT conversation"]


def test_the_turn_that_makes_the_draft_writes_the_conversation_row_once(
        runner: DialogRunner, engine: Engine) -> None:
    """The draft first, then the conversation's one UPDATE: its changed columns and
    current_draft_id together."""
    play(runner, script()[:AFTER_ROLE - 1])
    with Session(engine) as session:
        row = conversation_row(session)
        assert row is not None
        assert row.current_draft_id is None
        assert drafts_of(session, row.id) == []
    writes = _row_writes(runner, engine, script()[AFTER_ROLE - 1:AFTER_ROLE])
    assert writes == ["INSERT draft_plan", "UPDATE conversation"]
    with Session(engine) as session:
        row = conversation_row(session)
        assert row is not None
        [draft] = drafts_of(session, row.id)
        assert (row.current_draft_id, row.step) == (draft.id, Step.CHOOSE_REQUEST.value)
        assert draft.role == Role.SELF.value
    # Later turns write each row once too.
    assert _row_writes(runner, engine, script()[AFTER_ROLE:AFTER_ROLE + 1]) == [
        "UPDATE draft_plan", "UPDATE conversation"]
