"""The draft as a PDF, for the person and for the unit.

The lines are the dialog's review lines (`dialogs.review.review_lines`, rendered by
`dialogs.render`), so the PDF says what the person saw before sending; headings and the few
lines only a document needs come from the catalogs too (storage/texts.py). The font is DejaVu Sans
(storage/exports/fonts.py), embedded, so Norwegian, Sami letters and many symbols print;
a character the font lacks prints as "�" instead of vanishing or failing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from io import BytesIO
from typing import Literal

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

import storage.texts  # noqa: F401  (registers the document messages)
from dialogs.draft import Language
from dialogs.events import Label, ParamValue, Reply
from dialogs.municipalities import by_number
from dialogs.render import message, render
from dialogs.review import format_reference, review_lines
from dialogs.steps import QUESTION_STEPS
from storage.exports.document import Copy, DraftDocument
from storage.exports.fonts import BOLD_NAME, REGULAR_NAME, FontMissingError, registered_fonts
from storage.units import TARGET_GROUP_LABELS, TargetGroup, UnitsDirectory

__all__ = ["REPLACEMENT", "Block", "FontMissingError", "blocks", "printable", "render_pdf",
           "to_pdf"]

REPLACEMENT = "\N{REPLACEMENT CHARACTER}"

Kind = Literal["title", "note", "heading", "line"]


@dataclass(frozen=True)
class Block:
    kind: Kind
    text: str


def printable(text: str) -> str:
    """Text the font can draw: invisible format characters (emoji joiners, variation selectors,
    skin tones) and control characters go, anything else the font lacks becomes "�"."""
    return unicodedata.normalize("NFC", text).translate(_DRAWN_AS)


class _DrawnAs(dict[int, str | None]):
    """`str.translate`'s table for `printable`: each character is judged once per process (a
    PDF holds a few hundred distinct ones), not again for every time it occurs. It holds at
    most one entry per code point met."""

    def __missing__(self, code: int) -> str | None:
        self[code] = drawn = _drawn_as(chr(code))
        return drawn


def _drawn_as(char: str) -> str | None:
    """What the PDF shows for `char`: itself, "�", or nothing (None)."""
    if char == "\n":
        return char
    if unicodedata.category(char) in {"Cf", "Cc", "Cs", "Co", "Cn"} \
            or 0xFE00 <= ord(char) <= 0xFE0F or 0x1F3FB <= ord(char) <= 0x1F3FF:
        return REPLACEMENT if unicodedata.category(char) in {"Co", "Cn"} else None
    return char if ord(char) in registered_fonts() else REPLACEMENT


_DRAWN_AS = _DrawnAs()


# What the document says ------------------------------------------------------------------------

_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("document.heading.request", ("review.prepared_by.", "review.request")),
    ("document.heading.answers", ("review.answer.",)),
    ("document.heading.services", ("review.services", "review.coordinator_wish")),
    ("document.heading.contact", ("review.contact", "review.municipality")),
)


def _answer_step_present(document: DraftDocument, reply: Reply) -> bool:
    """An answer line is shown only for a question in the draft (the unit's copy has no
    unshared answers, and must not call them "not answered")."""
    number = reply.params.get("number")
    return isinstance(number, int) and QUESTION_STEPS[number - 1] in document.draft.answers


def _lines(document: DraftDocument) -> list[Reply]:
    return [r for r in review_lines(document.draft)
            if not r.key.startswith("review.answer.") or _answer_step_present(document, r)]


def _routing(document: DraftDocument, directory: UnitsDirectory | None) -> list[Reply]:
    replies: list[Reply] = []
    if document.target_group in {g.value for g in TargetGroup}:
        label = TARGET_GROUP_LABELS[TargetGroup(document.target_group)]
        replies.append(Reply("document.target_group", {"target_group": Label(label)}))
    entry = directory.municipality(document.draft.municipality_number or "") if directory \
        else None
    district = entry.district(document.district or "") if entry else None
    if district:
        replies.append(Reply("document.district", {"district": district.name}))
    return replies


def _unit_lines(document: DraftDocument, directory: UnitsDirectory | None) -> list[Reply]:
    unit = directory.unit(document.unit_id) if directory and document.unit_id else None
    if unit is None or directory is None:
        municipality = by_number(document.draft.municipality_number or "")
        return [Reply("document.not_in_directory",
                      {"municipality": municipality.name if municipality else ""})]
    replies = [Reply("document.unit", {"unit": unit.name(document.language)})]
    if unit.address:
        replies.append(Reply("document.unit.address", {"address": unit.address}))
    phone = directory.contact_phone(unit)
    if phone:
        replies.append(Reply("document.unit.phone", {"phone": phone}))
    return replies


def _status(document: DraftDocument) -> Reply:
    if document.reference and document.sent_on and document.deadline:
        params: dict[str, ParamValue] = {
            "reference": format_reference(document.reference),
            "sent_on": document.sent_on, "deadline": document.deadline,
        }
        return Reply("status.sent", params)
    return Reply("document.not_sent")


def blocks(document: DraftDocument, directory: UnitsDirectory | None = None) -> list[Block]:
    """The document as headings and lines in its language, before any layout."""
    language = document.language

    def text(reply: Reply) -> str:
        return render(language, reply).text

    out = [Block("title", message(language, "document.title")),
           Block("note", message(language, f"document.copy.{document.copy.value}")),
           Block("line", text(_status(document)))]
    lines = _lines(document)
    for heading, prefixes in _SECTIONS:
        chosen = [r for r in lines if r.key.startswith(prefixes)]
        if heading == "document.heading.request":
            chosen += _routing(document, directory)
        if chosen:
            out.append(Block("heading", message(language, heading)))
            out.extend(Block("line", text(r)) for r in chosen)
    out.append(Block("heading", message(language, "document.heading.unit")))
    out.extend(Block("line", text(r)) for r in _unit_lines(document, directory))
    if document.copy is Copy.CITIZEN:
        out.append(Block("heading", message(language, "document.heading.next")))
        out.extend(Block("line", message(language, key)) for key in (
            "rights.answer_within_a_month", "rights.complaint", "about.more_information"))
    return out


# Layout ----------------------------------------------------------------------------------------

_PAGE_WIDTH, _PAGE_HEIGHT = A4  # points
_LEFT = _RIGHT = 20 * mm
_TOP = _BOTTOM = 18 * mm  # no line below the bottom margin
_FOOTER = 13 * mm  # the page number's line, from the page's bottom edge
_FOOTER_SIZE = 8

_STYLE: dict[Kind, tuple[str, float, float, float]] = {
    # font, size (pt), line height (mm), space before (mm)
    "title": (BOLD_NAME, 16, 8, 0),
    "note": (REGULAR_NAME, 9, 4.5, 1),
    "heading": (BOLD_NAME, 12, 6, 5),
    "line": (REGULAR_NAME, 10.5, 5.2, 1.2),
}


def wrapped(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """`text` broken into lines no wider than `width` as `measure` gives a string's width: at
    spaces, and inside a word only when the word alone is too wide. Each word is measured once.
    """
    space = measure(" ")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, line_width = "", 0.0
        for word in paragraph.split(" "):
            word_width = measure(word)
            if line and line_width + space + word_width <= width:
                line, line_width = f"{line} {word}", line_width + space + word_width
                continue
            if line:
                lines.append(line)
            line, line_width = word, word_width
            while line_width > width and len(line) > 1:
                head, line = _split_word(line, width, measure)
                lines.append(head)
                line_width = measure(line)
        lines.append(line)
    return lines


def _split_word(word: str, width: float, measure: Callable[[str], float]) -> tuple[str, str]:
    """The longest start of `word` that fits (at least one character), and the rest."""
    used = 0.0
    for index, char in enumerate(word):
        used += measure(char)
        if used > width:
            return word[:max(index, 1)], word[max(index, 1):]
    return word, ""


@dataclass(frozen=True)
class _Line:
    font: str
    size: float
    baseline: float  # points from the page's bottom edge
    text: str


def _pages(texts: list[tuple[Kind, str]]) -> list[list[_Line]]:
    """The lines of each page, laid out top to bottom before anything is drawn, so the footer
    knows how many pages there are."""
    width = _PAGE_WIDTH - _LEFT - _RIGHT - 0.01  # a hair less: rounding never overflows
    pages: list[list[_Line]] = [[]]
    top = _PAGE_HEIGHT - _TOP  # the next line's top edge
    for kind, text in texts:
        font, size, height_mm, before_mm = _STYLE[kind]
        height = height_mm * mm
        top -= before_mm * mm
        for line in wrapped(text, width, partial(stringWidth, fontName=font, fontSize=size)):
            if top - height < _BOTTOM:
                pages.append([])
                top = _PAGE_HEIGHT - _TOP
            # The text sits in the middle of its line, as a line of type does.
            pages[-1].append(_Line(font, size, top - height / 2 - 0.3 * size, line))
            top -= height
    return pages


def render_pdf(items: Iterable[Block], language: Language) -> bytes:
    registered_fonts()
    title = printable(message(language, "document.title"))
    pages = _pages([(block.kind, printable(block.text)) for block in items])
    out = BytesIO()
    pdf = Canvas(out, pagesize=A4, pageCompression=1, lang=language.value,
                 initialFontName=REGULAR_NAME, initialFontSize=_STYLE["line"][1])
    pdf.setTitle(title)
    pdf.setCreator("Din plan")
    for number, lines in enumerate(pages, start=1):
        for line in lines:
            pdf.setFont(line.font, line.size)
            pdf.drawString(_LEFT, line.baseline, line.text)
        page = render(language, Reply("document.page", {"page": number,
                                                        "pages": len(pages)})).text
        pdf.setFont(REGULAR_NAME, _FOOTER_SIZE)
        pdf.drawCentredString(_PAGE_WIDTH / 2, _FOOTER - 0.3 * _FOOTER_SIZE, printable(page))
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def to_pdf(document: DraftDocument, directory: UnitsDirectory | None = None) -> bytes:
    """The PDF of this copy of the draft (use `document.for_unit()` for the unit's)."""
    return render_pdf(blocks(document, directory), document.language)
