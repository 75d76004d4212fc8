"""A submitted draft as PDF, FHIR R4 and JSON: for the person, and for the unit (shared answers
only). `dinplan export REFERENCE --format pdf|fhir|json` writes them."""

from typing import TYPE_CHECKING, Any

from storage.exports.document import (
    Copy,
    DraftDocument,
    answer_deadline,
    document_from_rows,
    from_conversation,
    from_json,
    load_document,
    to_json,
)
from storage.exports.fhir import bundle, questionnaire, questionnaire_response

if TYPE_CHECKING:
    from storage.exports.pdf import blocks, to_pdf


def __getattr__(name: str) -> Any:
    # ReportLab is loaded only by code that makes a PDF (the bot does so in its PDF worker).
    if name in ("blocks", "to_pdf"):
        from storage.exports import pdf

        return getattr(pdf, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "Copy",
    "DraftDocument",
    "answer_deadline",
    "blocks",
    "bundle",
    "document_from_rows",
    "from_conversation",
    "from_json",
    "load_document",
    "questionnaire",
    "questionnaire_response",
    "to_json",
    "to_pdf",
]
