"""FHIR R4 resources of a draft: the Questionnaire of the six preparation questions (seed 001,
"Hvordan kan du forberede deg?") and a QuestionnaireResponse per draft.

Plain JSON data made here; the tests validate them with fhir.resources (its R4B models, which
FHIR R4 Questionnaire resources match). A response holds the answers of the copy it is made from,
so the unit's copy has only the shared answers.
"""

from __future__ import annotations

from typing import Any

import storage.texts  # noqa: F401  (registers the document messages)
from dialogs.draft import Language
from dialogs.render import message
from dialogs.steps import QUESTION_STEPS
from storage.exports.document import DraftDocument
from storage.models import as_utc

QUESTIONNAIRE_ID = "dinplan-preparation"
QUESTIONNAIRE_URL = "urn:dinplan:fhir:Questionnaire:preparation"
QUESTIONNAIRE_VERSION = "1"
REFERENCE_SYSTEM = "urn:dinplan:reference"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"


def _question(language: Language, step_value: str) -> str:
    return message(language, f"question.{step_value}.self")


def _translations(language: Language, key: str) -> dict[str, Any]:
    """The other written standard's text, as FHIR's translation extension."""
    return {"extension": [
        {"url": TRANSLATION, "extension": [
            {"url": "lang", "valueCode": other.value},
            {"url": "content", "valueString": message(other, key)},
        ]}
        for other in Language if other is not language
    ]}


def questionnaire(language: Language = Language.BOKMAL) -> dict[str, Any]:
    return {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "url": QUESTIONNAIRE_URL,
        "version": QUESTIONNAIRE_VERSION,
        "name": "DinPlanPreparation",
        "title": message(language, "document.questionnaire"),
        "_title": _translations(language, "document.questionnaire"),
        "status": "active",
        "language": language.value,
        "publisher": "Din plan",
        "subjectType": ["Patient"],
        "item": [
            {
                "linkId": step.value,
                "prefix": f"{number}.",
                "text": _question(language, step.value),
                "_text": _translations(language, f"question.{step.value}.self"),
                "type": "text",
                "required": False,
                "repeats": False,
            }
            for number, step in enumerate(QUESTION_STEPS, start=1)
        ],
    }


def questionnaire_response(document: DraftDocument) -> dict[str, Any]:
    """The answers of this copy of the draft; skipped (and, for the unit, unshared) questions
    have no item, as FHIR wants for questions without an answer."""
    language, draft = document.language, document.draft
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{QUESTIONNAIRE_URL}|{QUESTIONNAIRE_VERSION}",
        "status": "completed" if document.submitted_at else "in-progress",
        "language": language.value,
        "item": [
            {
                "linkId": step.value,
                "text": _question(language, step.value),
                "answer": [{"valueString": draft.answers[step].text}],
            }
            for step in QUESTION_STEPS
            if step in draft.answers and draft.answers[step].text
        ],
    }
    if document.reference:
        response["id"] = f"{document.reference}-{document.copy.value}"
        response["identifier"] = {"system": REFERENCE_SYSTEM, "value": document.reference}
    if document.submitted_at:
        response["authored"] = as_utc(document.submitted_at).isoformat()  # not only a stored time
    return response


def bundle(document: DraftDocument) -> dict[str, Any]:
    """Both resources together, as `dinplan export --format fhir` writes them."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": QUESTIONNAIRE_URL, "resource": questionnaire(document.language)},
            {"resource": questionnaire_response(document)},
        ],
    }
