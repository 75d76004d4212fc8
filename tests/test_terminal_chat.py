"""The terminal chat as a real process: `python -m bot.cli chat` on a pipe and a SQLite file.

Not a terminal, so it reads one line per turn; options are answered by number or by label. Each
line is sent only after the reply to the previous one has been read, and every wait has a limit,
so a hang fails the test instead of blocking it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date

from dialogs.draft import Language
from dialogs.reference import ALPHABET
from dialogs.render import message
from dialogs.review import answer_deadline
from tests.conftest import ROOT

NB, NN = Language.BOKMAL, Language.NYNORSK
WAIT = 60.0  # seconds for one reply; a start includes migrating the database
USER = "terminal-tester"
# The chat process encrypts what it must at rest with this key; the test reads it back with it.
KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()

pytestmark = pytest.mark.timeout(300)


class ChatProcess:
    """One `dinplan chat` process; everything it prints is collected by a reader thread."""

    def __init__(self, database: Path, *args: str) -> None:
        env = {**os.environ, "DINPLAN_DATABASE_URL": f"sqlite:///{database}",
               "DINPLAN_ENCRYPTION_KEY": KEY, "DINPLAN_LOG_LEVEL": "WARNING",
               "PYTHONIOENCODING": "utf-8"}
        env.pop("DINPLAN_ENCRYPTION_KEY_FILE", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "chat", "--user", USER, *args],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.output = ""
        self.errors = ""
        self.closed = False
        self.changed = threading.Condition()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in iter(self.process.stdout.readline, ""):
            with self.changed:
                self.output += line
                self.changed.notify_all()
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in iter(self.process.stderr.readline, ""):
            self.errors += line

    def wait_for(self, text: str, since: int = 0) -> str:
        """The output from `since` once it holds `text`; fails after WAIT seconds."""
        with self.changed:
            self.changed.wait_for(lambda: text in self.output[since:] or self.closed, WAIT)
            seen = self.output[since:]
        if text not in seen:
            self.kill()
            pytest.fail(f"waited for {text!r}; the chat printed:\n{seen}\n"
                        f"--- stderr:\n{self.errors}")
        return seen

    def send(self, line: str, expect: str) -> str:
        """Type a line and wait for the reply to show `expect`."""
        since = len(self.output)
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.wait_for(expect, since)

    def close(self) -> str:
        """End of input: the chat says goodbye and exits by itself."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            code = self.process.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"the chat did not exit at end of input:\n{self.output}")
        assert code == 0, self.errors
        with self.changed:
            self.changed.wait_for(lambda: self.closed, WAIT)
        return self.output

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(WAIT)


@dataclass(frozen=True)
class Person:
    language: Language
    relative: bool

    def says(self, key: str, **params: Any) -> str:
        text = message(self.language, key)
        return text.format(**params) if params else text

    def asks(self, key: str) -> str:
        """A question with its self or relative wording."""
        if self.relative:
            return self.says(f"{key}.relative", name="Kari")
        return self.says(f"{key}.self")


ANSWERS = ["Jeg er god til å lage mat", "Å bo hjemme", "Å komme meg ut hver dag",
           "Hjelp til innkjøp", "Hjelp om morgenen", "Fastlegen kjenner meg"]
QUESTIONS = ["question.ask_strengths", "question.ask_what_matters_in_life",
             "question.ask_what_matters_everyday", "question.ask_what_it_takes",
             "question.ask_what_first", "question.ask_what_works_now"]


def start(chat: ChatProcess, person: Person) -> None:
    """From the first question to the first preparation question."""
    chat.wait_for(message(NB, "choose_language"))
    label = message(person.language, f"option.{'nynorsk' if person.language is NN else 'bokmal'}")
    chat.send(label, person.says("intro.what_happens_here"))
    chat.send("1", person.says("privacy.ask_consent"))
    chat.send(person.says("option.consent"), person.says("ask_reminder"))
    chat.send(person.says("option.yes_remind"), person.says("ask_role"))
    if person.relative:
        chat.send("2", person.says("ask_person_name"))
        chat.send("Kari", person.says("ask_relation", name="Kari"))
        chat.send("1", person.says("ask_basis", name="Kari"))
        chat.send("2", person.asks("ask_request"))
    else:
        chat.send(person.says("option.for_myself"), person.asks("ask_request"))
    chat.send("1", "Spørsmål 1 av 6")


def answer(chat: ChatProcess, person: Person, numbers: range) -> None:
    for number in numbers:
        chat.wait_for(person.asks(QUESTIONS[number - 1]))
        after = f"Spørsmål {number + 1} av 6" if number < 6 else person.asks("ask_services")
        chat.send(ANSWERS[number - 1], after)


def finish(chat: ChatProcess, person: Person) -> str:
    """From the services to the receipt; the receipt's text."""
    gp, nav = person.says("service.gp"), person.says("service.nav")
    chat.send("1", f"✓ {gp}")
    chat.send(nav, f"✓ {nav}")
    chat.send(person.says("option.done"), person.asks("ask_coordinator_wish"))
    chat.send("1", person.says("ask_coordinator_wish_text"))
    chat.send("Fastlegen", person.asks("ask_contact_name"))
    chat.send("Ola Nordmann", person.says("ask_phone"))
    chat.send("12", person.says("invalid.phone"))
    chat.send("0047 55 56 55 56", person.says("ask_reach_time"))
    chat.send("1", person.asks("ask_municipality"))
    chat.send("Bergne", "Bergen (Vestland)")
    # Bergen routes by target group, and for the elderly by district.
    chat.send("1", person.asks("ask_target_group"))
    chat.send(person.says("target_group.elderly"), person.asks("ask_district"))
    review = chat.send("Fana", person.says("review.ask_send"))
    assert ANSWERS[0] in review
    assert "Bergen" in review
    assert person.says("review.district", district="Fana") in review
    return chat.send(person.says("option.send"), person.says("receipt.complaint"))


def _clear(value: Any) -> Any:
    """A stored value as written; decrypted where it is encrypted at rest."""
    if isinstance(value, str) and value.startswith("enc1:"):
        from storage.crypto import Keyring, parse_key

        return Keyring([parse_key(KEY)]).decrypt(value)
    return value


def _columns(row: sqlite3.Row) -> dict[str, Any]:
    return {name: _clear(value) for name, value in zip(row.keys(), row, strict=True)}


def read_database(path: Path) -> dict[str, Any]:
    """What the chat stored about USER, read with plain sqlite3."""
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        conversation = db.execute("SELECT * FROM conversation WHERE channel = ? AND chat_id = ?",
                                  ("terminal", USER)).fetchone()
        assert conversation is not None
        draft = db.execute("SELECT * FROM draft_plan WHERE id = ?",
                           (conversation["current_draft_id"],)).fetchone()
        answers = {row["question"]: _clear(row["text"]) for row in db.execute(
            "SELECT question, text FROM answer WHERE draft_id = ?", (draft["id"],))} \
            if draft else {}
        submissions = db.execute("SELECT * FROM submission WHERE conversation_id = ?",
                                 (conversation["id"],)).fetchall()
        outbox = db.execute("SELECT * FROM outbox").fetchall()
        return {
            "conversation": _columns(conversation),
            "draft": _columns(draft) if draft else None,
            "answers": answers,
            "submissions": [dict(row) for row in submissions],
            "outbox": [dict(row) for row in outbox],
        }


@pytest.mark.parametrize("person", [Person(NB, relative=False), Person(NN, relative=False),
                                    Person(NB, relative=True), Person(NN, relative=True)],
                         ids=lambda p: f"{p.language.value}-{'relative' if p.relative else 'self'}")
def test_whole_conversation_in_the_terminal(tmp_path: Path, person: Person) -> None:
    database = tmp_path / "chat.sqlite3"
    chat = ChatProcess(database)
    start(chat, person)
    answer(chat, person, range(1, 7))
    receipt = finish(chat, person)
    shown = re.search(rf"\b([{ALPHABET}]{{4}})-([{ALPHABET}]{{4}})\b", receipt)
    assert shown, receipt
    chat.send("/status", shown.group(0))
    output = chat.close()
    assert output.rstrip().endswith(person.says("goodbye"))

    stored = read_database(database)
    conversation, draft = stored["conversation"], stored["draft"]
    assert (conversation["step"], conversation["language"]) == ("sent", person.language.value)
    assert conversation["consented_at"] is not None
    assert conversation["wants_reminder"] == 1
    assert draft is not None
    if person.relative:
        assert (draft["role"], draft["person_name"], draft["relation"], draft["basis"]) == (
            "relative", "Kari", "parent", "parent_of_child_under_16")
    else:
        assert (draft["role"], draft["person_name"], draft["relation"], draft["basis"]) == (
            "self", None, None, None)
    assert draft["request"] == "plan_and_coordinator"
    assert json.loads(draft["services"]) == ["gp", "nav"]
    assert (draft["wishes_coordinator"], draft["coordinator_wish"]) == (1, "Fastlegen")
    assert (draft["contact_name"], draft["phone"], draft["reach_time"]) == (
        "Ola Nordmann", "+47 55 56 55 56", "morning")
    assert (draft["municipality_number"], draft["target_group"], draft["district"]) == (
        "4601", "elderly", "fana")
    assert stored["answers"] == {q.removeprefix("question."): a for q, a in zip(
        QUESTIONS, ANSWERS, strict=True)}
    [submission] = stored["submissions"]
    assert submission["reference"] == shown.group(1) + shown.group(2)
    assert submission["municipality_number"] == "4601"
    assert submission["draft_id"] == draft["id"]
    fana = "bergen-vurderingskontoret-fana-ytrebygda"
    assert (submission["status"], submission["unit_id"]) == ("sent", fana)
    [entry] = stored["outbox"]
    assert (entry["submission_id"], entry["unit_id"], entry["status"]) == (
        submission["id"], fana, "pending")
    assert "Vurderingskontoret Fana–Ytrebygda" in receipt
    # One month from the day it was sent in Norway (not the UTC date: they differ before 01:00).
    # SQLite keeps no zone: the stored text is UTC (storage.models.UTCDateTime).
    sent_at = datetime.fromisoformat(submission["submitted_at"]).replace(tzinfo=UTC)
    deadline = format_date(answer_deadline(sent_at), format="long", locale=person.language.value)
    assert person.says("receipt.deadline", deadline=deadline) in receipt


def test_the_chat_survives_being_killed(tmp_path: Path) -> None:
    person = Person(NB, relative=False)
    database = tmp_path / "chat.sqlite3"
    chat = ChatProcess(database)
    start(chat, person)
    answer(chat, person, range(1, 3))
    # The step is committed before its reply is printed: once question 4 shows, answer 3 is kept.
    chat.send(ANSWERS[2], "Spørsmål 4 av 6")
    chat.kill()
    assert chat.process.returncode == -signal.SIGKILL

    again = ChatProcess(database)
    greeting = again.wait_for(person.asks(QUESTIONS[3]))
    assert greeting.startswith(person.says("welcome_back"))
    assert "Spørsmål 4 av 6" in greeting
    assert person.says("choose_language") not in greeting
    answer(again, person, range(4, 7))
    finish(again, person)
    again.close()

    answers = read_database(database)["answers"]
    assert [answers[q.removeprefix("question.")] for q in QUESTIONS] == ANSWERS


def test_the_chat_starts_in_the_language_asked_for(tmp_path: Path) -> None:
    chat = ChatProcess(tmp_path / "chat.sqlite3", "--lang", "nn")
    shown = chat.wait_for(message(NN, "intro.what_happens_here"))
    assert message(NN, "language.preselected") in shown
    assert message(NB, "choose_language") not in shown
    chat.send("/sprak", message(NN, "choose_language"))
    chat.send("1", message(NB, "intro.what_happens_here"))
    chat.send("ingen knapp", message(NB, "invalid.choose_option"))
    chat.send("/finnesikke", message(NB, "unknown_command"))
    chat.close()
