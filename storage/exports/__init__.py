"""A submitted draft as PDF, FHIR R4 and JSON: for the person, and for the unit (shared answers
only). `dinplan export REFERENCE --format pdf|fhir|json` writes them."""

from storage.exports.document import (
    Copy,
    DraftDocument,
    answer_deadline,
    from_conversation,
    from_json,
    load_document,
    sent_on,
    to_json,
)
from storage.exports.fhir import bundle, questionnaire, questionnaire_response
from storage.exports.pdf import blocks, to_pdf

__all__ = [
    "Copy",
    "DraftDocument",
    "answer_deadline",
    "blocks",
    "bundle",
    "from_conversation",
    "from_json",
    "load_document",
    "questionnaire",
    "questionnaire_response",
    "sent_on",
    "to_json",
    "to_pdf",
]
