"""The draft as a PDF, for the person and for the unit.

The lines are the dialog's review lines (`dialogs.review.review_lines`, rendered by
`dialogs.render`), so the PDF says what the person saw before sending; headings and the few
lines only a document needs come from the catalogs too (storage/texts.py). The font is DejaVu Sans
(storage/exports/fonts.py), embedded, so Norwegian, Sami letters and many symbols print;
a character the font lacks prints as "�" instead of vanishing or failing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from fpdf import FPDF
from fpdf.enums import XPos, YPos

import storage.texts  # noqa: F401  (registers the document messages)
from dialogs.draft import Language
from dialogs.events import Label, ParamValue, Reply
from dialogs.municipalities import by_number
from dialogs.render import message, render
from dialogs.review import format_reference, review_lines
from dialogs.steps import QUESTION_STEPS
from storage.exports.document import Copy, DraftDocument
from storage.exports.fonts import FontMissingError, FontSet, fonts_for, full_fonts
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
    covered = full_fonts().covered
    out = []
    for char in unicodedata.normalize("NFC", text):
        if char == "\n":
            out.append(char)
        elif unicodedata.category(char) in {"Cf", "Cc", "Cs", "Co", "Cn"} \
                or 0xFE00 <= ord(char) <= 0xFE0F or 0x1F3FB <= ord(char) <= 0x1F3FF:
            if unicodedata.category(char) in {"Co", "Cn"}:
                out.append(REPLACEMENT)
        elif ord(char) in covered:
            out.append(char)
        else:
            out.append(REPLACEMENT)
    return "".join(out)


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


class _Pdf(FPDF):
    def __init__(self, language: Language, fonts: FontSet) -> None:
        super().__init__(format="A4")
        self.language = language
        self.add_font("DejaVu", "", str(fonts.regular))
        self.add_font("DejaVu", "B", str(fonts.bold))
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(auto=True, margin=18)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("DejaVu", "", 8)
        page = render(self.language, Reply("document.page", {"page": self.page_no(),
                                                             "pages": "{nb}"})).text
        self.cell(0, 5, page, align="C")


_STYLE: dict[Kind, tuple[str, float, float, float]] = {
    # font style, size (pt), line height (mm), space before (mm)
    "title": ("B", 16, 8, 0),
    "note": ("", 9, 4.5, 1),
    "heading": ("B", 12, 6, 5),
    "line": ("", 10.5, 5.2, 1.2),
}


def wrapped(pdf: FPDF, text: str, width: float) -> list[str]:
    """`text` broken into lines no wider than `width` in the current font: at spaces, and
    inside a word only when the word alone is too wide.

    fpdf2's multi_cell measures the whole line again for every character it adds, which made
    line breaking most of a PDF's time; this measures each word once.
    """
    space = pdf.get_string_width(" ")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, line_width = "", 0.0
        for word in paragraph.split(" "):
            word_width = pdf.get_string_width(word)
            if line and line_width + space + word_width <= width:
                line, line_width = f"{line} {word}", line_width + space + word_width
                continue
            if line:
                lines.append(line)
            line, line_width = word, word_width
            while line_width > width and len(line) > 1:
                head, line = _split_word(pdf, line, width)
                lines.append(head)
                line_width = pdf.get_string_width(line)
        lines.append(line)
    return lines


def _split_word(pdf: FPDF, word: str, width: float) -> tuple[str, str]:
    """The longest start of `word` that fits (at least one character), and the rest."""
    used = 0.0
    for index, char in enumerate(word):
        used += pdf.get_string_width(char)
        if used > width:
            return word[:max(index, 1)], word[max(index, 1):]
    return word, ""


def render_pdf(items: Iterable[Block], language: Language) -> bytes:
    title = printable(message(language, "document.title"))
    texts = [(block.kind, printable(block.text)) for block in items]
    pdf = _Pdf(language, fonts_for([title, *(text for _kind, text in texts)]))
    pdf.set_title(title)
    pdf.set_lang(language.value)
    pdf.set_creator("Din plan")
    pdf.add_page()
    width = pdf.epw - 0.01  # a hair less than the page: rounding never overflows a line
    for kind, text in texts:
        style, size, height, before = _STYLE[kind]
        pdf.set_font("DejaVu", style, size)
        pdf.ln(before)
        for line in wrapped(pdf, text, width):
            pdf.cell(0, height, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def to_pdf(document: DraftDocument, directory: UnitsDirectory | None = None) -> bytes:
    """The PDF of this copy of the draft (use `document.for_unit()` for the unit's)."""
    return render_pdf(blocks(document, directory), document.language)
