"""/mine_data sends the person everything stored about them: a JSON file and a readable summary
in their written standard, in the terminal and in Telegram."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot import my_data
from bot.terminal import TerminalChat
from dialogs.draft import Language
from dialogs.events import Command, Effect, TextEvent
from dialogs.inputs import PRIVACY_NOTICE_VERSION
from dialogs.render import message
from dialogs.review import format_reference
from dialogs.steps import Step
from storage.db import unit_of_work
from storage.models import PrivacyEvent
from storage.privacy import export_person
from tests.privacy.helpers import (
    ANSWER,
    CONTACT_NAME,
    COORDINATOR_WISH,
    PERSON_NAME,
    PHONE_STORED,
    REACH_TIME,
    Clock,
    Person,
    every_row,
    runner_for,
)
from tests.privacy.telegram import offline_bot, walk
from tests.telegram.offline import Person as Phone


def flat(data: Any) -> list[Any]:
    """Every value in a JSON document."""
    if isinstance(data, dict):
        return [v for value in data.values() for v in flat(value)]
    if isinstance(data, list):
        return [v for value in data for v in flat(value)]
    return [data]


def stored_values(engine: Engine, chat_id: str) -> list[str]:
    """The person's stored free text and identifiers, as the tables hold them."""
    rows = every_row(engine)
    [conv] = [r for r in rows["conversation"] if r["chat_id"] == chat_id]
    drafts = [r for r in rows["draft_plan"] if r["conversation_id"] == conv["id"]]
    draft_ids = {d["id"] for d in drafts}
    values = [conv["chat_id"], conv["consent_version"], conv["step"], conv["language"]]
    for draft in drafts:
        values += [draft[name] for name in ("person_name", "coordinator_wish", "contact_name",
                                            "phone", "reach_time", "role", "relation", "basis",
                                            "request", "municipality_number")]
    values += [a["text"] for a in rows["answer"] if a["draft_id"] in draft_ids]
    values += [s["reference"] for s in rows["submission"] if s["draft_id"] in draft_ids]
    values += [o["unit_id"] for o in rows["outbox"]]
    return [v for v in values if v is not None]


def test_the_export_holds_everything_stored(engine: Engine, clock: Clock) -> None:
    runner = runner_for(engine, clock)
    person = Person(runner, "export-1")
    person.send_request()
    person.command(Command.START)
    person.chosen.clear()
    person.go_to(Step.ASK_WHAT_MATTERS_EVERYDAY)
    with unit_of_work(engine) as session:
        data = export_person(session, channel="terminal", chat_id="export-1", now=clock())
    assert data is not None
    document = json.loads(data.json_bytes())
    values = [str(v) for v in flat(document)]
    missing = [v for v in stored_values(engine, "export-1") if str(v) not in values]
    assert missing == []
    assert document["consent"]["privacy_notice_version"] == PRIVACY_NOTICE_VERSION
    assert document["reminders"]["wanted"] is True
    [sent, unsent] = document["drafts"]
    assert sent["sent"] is True
    assert unsent["sent"] is False
    assert unsent["deleted_at"] is not None
    [request] = document["requests"]
    assert request["deliveries"][0]["unit_id"] == "gulen-koordinerande-eining"
    for text in (ANSWER, PERSON_NAME, COORDINATOR_WISH, CONTACT_NAME, PHONE_STORED, REACH_TIME):
        assert text in values


def test_nothing_stored_exports_nothing(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        assert export_person(session, channel="terminal", chat_id="nobody") is None
    assert [r.key for r in my_data.summary(None)] == ["privacy.export.nothing"]


def test_my_data_is_an_effect_the_turn_carries(engine: Engine, clock: Clock) -> None:
    person = Person(runner_for(engine, clock), "export-2")
    person.go_to(Step.ASK_STRENGTHS)
    turn = person.command(Command.MY_DATA)
    assert Effect.EXPORT_MY_DATA in turn.effects
    assert turn.step is Step.ASK_STRENGTHS


def test_terminal_prints_the_summary_and_writes_the_file(engine: Engine, clock: Clock,
                                                          tmp_path: Path) -> None:
    person = Person(runner_for(engine, clock), "export-3", language=Language.NYNORSK)
    person.go_to(Step.ASK_WHAT_MATTERS_IN_LIFE)
    out = io.StringIO()
    chat = TerminalChat(person.runner, "export-3", stdin=io.StringIO("/mine_data\n"),
                        stdout=out, export_dir=tmp_path)
    chat.run()
    printed = out.getvalue()
    [file] = list(tmp_path.glob("dinplan-mine-data-*.json"))
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    document = json.loads(file.read_text(encoding="utf-8"))
    assert ANSWER in flat(document)
    nn = Language.NYNORSK
    announced = printed.index(message(nn, "my_data.sent"))
    summary = printed.index(message(nn, "privacy.export.heading").split("{")[0])
    question = printed.rindex(message(nn, "question.ask_what_matters_in_life.relative")
                              .split("{")[0])
    assert announced < summary < question  # the data comes before the question again
    assert ANSWER in printed
    assert str(file) in printed
    assert message(nn, "privacy.export.consent").split("{")[0] in printed
    assert message(Language.BOKMAL, "privacy.export.heading").split("{")[0] not in printed
    with unit_of_work(engine) as session:
        assert [e.what for e in session.exec(select(PrivacyEvent))] == ["data_exported"]


async def test_telegram_sends_the_summary_and_the_file(engine: Engine, clock: Clock) -> None:
    async with offline_bot(engine, clock) as (app, request):
        phone = Phone(app, request, chat_id=770011, language_code="nn")
        answers = Person(runner_for(engine, clock), "unused", language=Language.NYNORSK)
        await walk(phone, engine, answers, Step.GIVE_PHONE)
        calls = await phone.write("/mine_data")

    nn = Language.NYNORSK
    kinds = [c.endpoint for c in calls if c.endpoint in ("sendMessage", "sendDocument")]
    assert kinds.count("sendDocument") == 1
    texts = [c.text for c in calls if c.endpoint == "sendMessage"]
    first = texts[0]
    assert first.startswith(message(nn, "my_data.sent"))
    assert message(nn, "privacy.export.heading").split("{")[0] in first
    assert "KANARISVAR7Q" in first  # the person's own answer, in their summary
    # The file comes after the summary, and the question the person is at after the file.
    document_at = kinds.index("sendDocument")
    assert message(nn, "ask_phone") in texts[-1]
    assert document_at == len(kinds) - 2
    [document] = [c for c in calls if c.endpoint == "sendDocument"]
    name, content, _mime = document.files["document"]
    assert name.startswith("dinplan-mine-data-")
    assert name.endswith(".json")
    data = json.loads(content)
    assert data["chat"]["chat_id"] == "770011"
    assert ANSWER in flat(data)
    assert CONTACT_NAME in flat(data)
    assert document.params["caption"] == message(nn, "privacy.export.caption")


def test_the_summary_of_a_sent_request_names_its_reference(engine: Engine, clock: Clock) -> None:
    person = Person(runner_for(engine, clock), "export-4", language=Language.BOKMAL)
    person.send_request()
    data = my_data.fetch(engine, channel="terminal", chat_id="export-4", now=clock())
    assert data is not None
    keys = [r.key for r in my_data.summary(data)]
    assert keys[:5] == ["privacy.export.heading", "privacy.export.first_seen",
                        "privacy.export.language", "privacy.export.consent",
                        "privacy.export.reminder.yes"]
    assert "status.sent" in keys
    assert keys[-1] == "privacy.export.unit_copy"
    [status] = [r for r in my_data.summary(data) if r.key == "status.sent"]
    assert status.params["reference"] == format_reference(data.requests[0].reference)


def test_typed_command_in_english_works_too(engine: Engine, clock: Clock) -> None:
    person = Person(runner_for(engine, clock), "export-5")
    person.go_to(Step.ASK_STRENGTHS)
    assert Effect.EXPORT_MY_DATA in person.say(TextEvent("/my_data")).effects
