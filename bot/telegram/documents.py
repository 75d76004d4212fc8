"""The person's own copy of the draft they sent, as a document in the chat.

A PDF of the citizen's full copy (storage/exports: every answer, shared or not, with the unit it
went to and the deadline), in the person's language, the same document `dinplan export` makes.
Should the PDF font be missing, the copy is a plain-text file of the review lines instead: the
person still gets their copy, and the log says what to install.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.pdf_process import pdf_in_worker
from bot.telegram.formatting import escape
from dialogs.draft import Conversation
from dialogs.events import Reply
from dialogs.render import render
from dialogs.review import format_reference, local_date, review_lines
from storage.exports import DraftDocument, from_conversation
from storage.exports.fonts import FontMissingError  # no ReportLab: that loads in the worker
from storage.units import RoutingStatus, UnitsDirectory, default_directory, route

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DraftCopy:
    filename: str
    content: bytes
    caption: str  # HTML


def citizen_document(conv: Conversation, directory: UnitsDirectory) -> DraftDocument:
    """The person's full copy, with the unit the request was routed to (as when it was sent)."""
    draft = conv.draft
    routed = route(directory, draft.municipality_number or "", draft.target_group,
                   draft.district)
    unit = routed.unit if routed.status is RoutingStatus.ROUTED else None
    return from_conversation(conv, unit_id=unit.id if unit else None,
                             target_group=draft.target_group, district=draft.district)


def draft_copy(conv: Conversation, directory: UnitsDirectory | None = None) -> DraftCopy | None:
    """The sent draft as a PDF, or None when nothing was sent."""
    if conv.submission is None:
        return None
    directory = directory or default_directory()
    reference = format_reference(conv.submission.reference)
    caption = render(conv.language, Reply("telegram.document.caption"), escape).text

    try:
        content = pdf_in_worker(citizen_document(conv, directory), directory)
    except FontMissingError:
        log.warning("the PDF font is not installed (fonts-dejavu-core); the copy goes as text")
        return DraftCopy(f"dinplan-{reference}.txt", _text(conv, reference), caption)
    return DraftCopy(f"dinplan-{reference}.pdf", content, caption)


def _text(conv: Conversation, reference: str) -> bytes:
    """The review lines as a text file; a file shows text as it is, so no HTML escaping."""
    assert conv.submission is not None
    language = conv.language
    heading = render(language, Reply("telegram.document.heading", {
        "reference": reference, "sent_on": local_date(conv.submission.submitted_at)})).text
    lines = [render(language, reply).text for reply in review_lines(conv.draft)]
    return ("\n\n".join([heading, *lines]) + "\n").encode("utf-8")
