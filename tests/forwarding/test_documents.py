"""The draft as PDF (read back with pdftotext), FHIR R4 (validated with fhir.resources) and JSON;
the unit's copy never holds an answer the person chose not to share."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypedDict, Unpack

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from sqlalchemy.engine import Engine

from bot.cli import main
from dialogs.draft import Answer, Conversation, DraftPlan, Language, SubmissionInfo
from dialogs.render import message
from dialogs.review import format_reference
from dialogs.steps import QUESTION_STEPS
from storage.exports import (
    Copy,
    DraftDocument,
    answer_deadline,
    blocks,
    bundle,
    from_conversation,
    from_json,
    questionnaire,
    questionnaire_response,
    to_json,
    to_pdf,
)
from storage.exports.pdf import REPLACEMENT, printable
from storage.settings import get_settings
from storage.units import SHIPPED_FILE, UnitsDirectory, load_directory
from tests.fakes import flat, pdf_text
from tests.forwarding.helpers import CANARY, SENT_AT, UNSHARED, draft, submit

FANA = "bergen-vurderingskontoret-fana-ytrebygda"
SAMI = "á č đ ŋ š ŧ ž"


@pytest.fixture(scope="module")
def shipped() -> UnitsDirectory:
    return load_directory(SHIPPED_FILE)


class DocumentChanges(TypedDict, total=False):
    """What a test may change in `document()`: fields of `DraftDocument`."""

    draft: DraftPlan
    reference: str | None
    submitted_at: datetime | None
    unit_id: str | None
    target_group: str | None
    district: str | None


def document(language: Language = Language.BOKMAL,
             **changes: Unpack[DocumentChanges]) -> DraftDocument:
    return replace(DraftDocument(
        draft=draft(), language=language, reference="ABCD2345",
        submitted_at=SENT_AT, unit_id=FANA, target_group="elderly",
        district="fana"), **changes)


def answer_text(step_number: int) -> str:
    return f"svar{step_number} {CANARY} {SAMI}"


# PDF -------------------------------------------------------------------------------------------

def test_the_citizens_pdf_holds_every_answer(shipped: UnitsDirectory) -> None:
    text = pdf_text(to_pdf(document(), shipped))
    for number in range(1, 7):
        assert flat(answer_text(number)) in flat(text)
    assert "(deles ikke)" in text  # the person sees what was not shared
    assert SAMI in text
    for expected in ("Utkast til individuell plan og koordinator", "Spørsmål og svar",
                     "Forespørsel ABCD-2345 ble sendt 31. januar 2026",
                     "Enheten skal svare innen 28. februar 2026", "Målgruppe: Eldre.",
                     "Bydel: Fana.", "Mottaker: Vurderingskontoret Fana–Ytrebygda.",
                     "Telefon: 55 56 51 90.", "Hva skjer nå", "Side 1 av",
                     # who prepared it, what is asked for, services, coordinator, contact
                     "Du er: Forelder", "Grunnlag: Jeg er forelder til et barn under 16 år",
                     "Individuell plan og koordinator", "Fastlege og Skole eller barnehage",
                     f"Fastlegen {CANARY}", f"Đuŋŋá {CANARY}", "+47 912 34 567"):
        assert flat(expected) in flat(text), expected


def test_the_units_pdf_lacks_unshared_answers(shipped: UnitsDirectory) -> None:
    unshared_number = QUESTION_STEPS.index(UNSHARED) + 1
    text = pdf_text(to_pdf(document().for_unit(), shipped))
    assert flat(answer_text(unshared_number)) not in flat(text)
    assert "deles ikke" not in text
    assert "ikke besvart" not in text
    for number in set(range(1, 7)) - {unshared_number}:
        assert flat(answer_text(number)) in flat(text)
    assert "Kopi til den koordinerende enheten" in text
    assert "Hva skjer nå" not in text  # the citizen's advice is not the unit's


def test_the_pdf_is_in_the_chosen_language(shipped: UnitsDirectory) -> None:
    text = pdf_text(to_pdf(document(Language.NYNORSK), shipped))
    for expected in ("Førespurnad ABCD-2345 vart send 31. januar 2026", "Kva skjer no",
                     "(blir ikkje delt)", "Koordinerande eining", "Side 1 av"):
        assert flat(expected) in flat(text), expected
    assert "Hva skjer" not in text


def test_emoji_and_very_long_answers_print_or_show_a_mark(shipped: UnitsDirectory) -> None:
    plan = draft()
    long_word = "å" * 400
    plan.answers[QUESTION_STEPS[0]] = Answer(f"Glad 😀 og takk 👍🏽 ❤️ {long_word} "
                                             + "lang tekst " * 1500)
    plan.answers[QUESTION_STEPS[1]] = Answer("linje\x00en\u200bto\nny linje")
    content = to_pdf(document(draft=plan), shipped)
    text = pdf_text(content)
    assert "😀" in text  # DejaVu Sans has it
    assert REPLACEMENT in text  # 👍 it has not: a visible mark instead of nothing
    assert flat(long_word) in flat(text)
    # pdftotext puts each page's footer where the page ends, maybe inside "lang tekst".
    body = re.sub(r"Side \d+ av \d+", "", text)
    assert flat(body).count("langtekst") == 1500
    assert "Side 3 av" in text or "Side 4 av" in text
    assert printable("a\u200db\ufe0fc\x07") == "abc"


def test_a_municipality_not_in_the_directory_gets_advice(shipped: UnitsDirectory) -> None:
    oslo = document(draft=draft(municipality="0301"), unit_id=None, target_group=None,
                    district=None)
    text = pdf_text(to_pdf(oslo, shipped))
    assert flat("Din plan kan ikke sende forespørsler til Oslo ennå") in flat(text)
    assert flat("ring sentralbordet i kommunen eller på sykehuset") in flat(text)
    assert flat(answer_text(1)) in flat(text)


def test_a_draft_not_yet_sent_has_a_pdf_too(shipped: UnitsDirectory) -> None:
    conv = Conversation(language=Language.NYNORSK, draft=draft(municipality="0301"))
    unsent = from_conversation(conv)
    lines = [b.text for b in blocks(unsent, shipped)]
    assert "Dette utkastet er ikkje sendt." in lines
    assert to_pdf(unsent, shipped).startswith(b"%PDF")


def test_the_pdf_is_built_from_the_review_lines(shipped: UnitsDirectory) -> None:
    """The same sentences the person saw before sending (dialogs.review), in order."""
    from dialogs.render import render
    from dialogs.review import review_lines

    doc = document()
    shown = [render(doc.language, r).text for r in review_lines(doc.draft)]
    printed = [b.text for b in blocks(doc, shipped) if b.kind == "line"]
    assert [line for line in printed if line in shown] == shown


# Dates -----------------------------------------------------------------------------------------

def test_dates_are_norwegian_days() -> None:
    late = datetime(2026, 1, 30, 23, 30, tzinfo=UTC)  # 00:30 on 31 January in Norway
    sent = document(submitted_at=late)
    assert (sent.sent_on, sent.deadline) == (date(2026, 1, 31), date(2026, 2, 28))
    assert answer_deadline(late).isoformat() == "2026-02-28"
    assert to_json(sent)["sent_on"] == "2026-01-31"


# FHIR ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", list(Language))
def test_the_questionnaire_is_valid_fhir_r4(language: Language) -> None:
    data = questionnaire(language)
    resource = Questionnaire.model_validate(data)
    assert resource.item is not None
    assert [item.linkId for item in resource.item] == [s.value for s in QUESTION_STEPS]
    assert resource.item[0].text == message(language, "question.ask_strengths.self")
    assert len(data["item"][0]["_text"]["extension"]) == 1  # the other written standard


def test_the_response_is_valid_fhir_r4_and_answers_the_questionnaire() -> None:
    doc = document()
    resource = QuestionnaireResponse.model_validate(questionnaire_response(doc))
    assert resource.questionnaire == "urn:dinplan:fhir:Questionnaire:preparation|1"
    assert resource.identifier is not None
    assert resource.identifier.value == "ABCD2345"
    assert resource.status == "completed"
    asked = {item["linkId"] for item in questionnaire()["item"]}
    assert resource.item is not None
    answered = {}
    for item in resource.item:
        assert item.answer is not None
        answered[item.linkId] = item.answer[0].valueString
    assert set(answered) <= asked
    assert answered[QUESTION_STEPS[0].value] == answer_text(1)
    assert UNSHARED.value in answered


def test_the_units_response_lacks_unshared_answers() -> None:
    data = questionnaire_response(document().for_unit())
    QuestionnaireResponse.model_validate(data)
    assert UNSHARED.value not in {item["linkId"] for item in data["item"]}
    assert CANARY in json.dumps(data)  # the shared answers are there


def test_skipped_questions_have_no_item_and_the_bundle_is_valid() -> None:
    plan = draft()
    plan.answers[QUESTION_STEPS[5]] = Answer(None)
    data = bundle(document(draft=plan))
    Bundle.model_validate(data)
    response = data["entry"][1]["resource"]
    assert QUESTION_STEPS[5].value not in {item["linkId"] for item in response["item"]}


# JSON ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("copy", list(Copy))
def test_json_reads_back(copy: Copy) -> None:
    doc = document(Language.NYNORSK).as_copy(copy)
    data = json.loads(json.dumps(to_json(doc)))
    assert from_json(data) == doc
    assert data["copy"] == copy.value
    assert data["answer_deadline"] == "2026-02-28"


def test_the_units_json_lacks_unshared_answers() -> None:
    unshared = answer_text(QUESTION_STEPS.index(UNSHARED) + 1)
    assert unshared in json.dumps(to_json(document()), ensure_ascii=False)
    assert unshared not in json.dumps(to_json(document().for_unit()), ensure_ascii=False)


def test_from_conversation_matches_the_submission() -> None:
    conv = Conversation(language=Language.BOKMAL, draft=draft(),
                        submission=SubmissionInfo("ABCD2345", SENT_AT))
    doc = from_conversation(conv, unit_id=FANA, target_group="elderly", district="fana")
    assert doc == document()


# dinplan export --------------------------------------------------------------------------------

@pytest.mark.parametrize("copy", ["citizen", "unit"])
def test_dinplan_export(engine: Engine, copy: str, tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch,
                        capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    reference = submit(engine, unit_id=FANA, target_group="elderly", district="fana",
                       language=Language.NYNORSK)
    monkeypatch.setenv("DINPLAN_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    unshared = answer_text(QUESTION_STEPS.index(UNSHARED) + 1)
    shown = format_reference(reference).lower()  # as people write it

    assert main(["export", shown, "--format", "json", "--copy", copy]) == 0
    data = json.loads(capsysbinary.readouterr().out)
    assert data["reference"] == reference
    assert data["language"] == "nn"
    assert (unshared in json.dumps(data, ensure_ascii=False)) is (copy == "citizen")

    assert main(["export", reference, "--format", "fhir", "--copy", copy]) == 0
    Bundle.model_validate(json.loads(capsysbinary.readouterr().out))

    output = tmp_path / "draft.pdf"
    assert main(["export", reference, "--format", "pdf", "--copy", copy, "-o", str(output)]) == 0
    text = pdf_text(output.read_bytes())
    assert "Kva skjer no" in text or copy == "unit"
    assert (flat(unshared) in flat(text)) is (copy == "citizen")


def test_dinplan_export_of_an_unknown_reference(engine: Engine, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DINPLAN_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    assert main(["export", "ZZZZ-2222", "--format", "json"]) == 1
    assert "no sent draft with reference ZZZZ-2222" in capsys.readouterr().err
