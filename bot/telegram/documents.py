"""The person's own copy of the draft they sent, as a document in the chat.

For now a plain-text file built from the review lines, rendered in the person's language; a PDF
can replace `draft_copy` without the handlers noticing.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.telegram.formatting import escape
from dialogs.draft import Conversation
from dialogs.events import Reply
from dialogs.render import render
from dialogs.review import format_reference, review_lines


@dataclass(frozen=True)
class DraftCopy:
    filename: str
    content: bytes
    caption: str  # HTML


def draft_copy(conv: Conversation) -> DraftCopy | None:
    """The sent draft as a text file, or None when nothing was sent."""
    if conv.submission is None:
        return None
    language = conv.language
    reference = format_reference(conv.submission.reference)
    heading = render(language, Reply("telegram.document.heading", {
        "reference": reference, "sent_on": conv.submission.submitted_at.date()})).text
    # A file shows text as it is: no HTML escaping here.
    lines = [render(language, reply).text for reply in review_lines(conv.draft)]
    body = "\n\n".join([heading, *lines]) + "\n"
    return DraftCopy(
        filename=f"dinplan-{reference}.txt",
        content=body.encode("utf-8"),
        caption=render(language, Reply("telegram.document.caption"), escape).text,
    )
