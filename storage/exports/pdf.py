"""The draft as a PDF, for the person and for the unit.

The lines are the dialog's review lines (`dialogs.review.review_lines`, rendered by
`dialogs.render`), so the PDF says what the person saw before sending; headings and the few
lines only a document needs come from the catalogs too (storage/texts.py). The font is DejaVu Sans
(Debian's fonts-dejavu-core), embedded, so Norwegian, Sami letters and many symbols print;
a character the font lacks prints as "�" instead of vanishing or failing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from fontTools.ttLib import TTFont
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
from storage.units import TARGET_GROUP_LABELS, TargetGroup, UnitsDirectory

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
REGULAR, BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"

Kind = Literal["title", "note", "heading", "line"]


@dataclass(frozen=True)
class Block:
    kind: Kind
    text: str


class FontMissingError(RuntimeError):
    """The PDF font is not installed (Debian: fonts-dejavu-core, see .ci/system-deps)."""


def font_path(name: str) -> Path:
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise FontMissingError(f"{name} not found in {', '.join(map(str, FONT_DIRS))}; "
                           "install the Debian package fonts-dejavu-core")


@cache
def _covered() -> frozenset[int]:
    """Code points both fonts can draw."""
    maps = [TTFont(font_path(name), lazy=True).getBestCmap() for name in (REGULAR, BOLD)]
    return frozenset(maps[0]) & frozenset(maps[1])


def printable(text: str) -> str:
    """Text the font can draw: invisible format characters (emoji joiners, variation selectors,
    skin tones) and control characters go, anything else the font lacks becomes "�"."""
    covered = _covered()
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
    def __init__(self, language: Language) -> None:
        super().__init__(format="A4")
        self.language = language
        self.add_font("DejaVu", "", str(font_path(REGULAR)))
        self.add_font("DejaVu", "B", str(font_path(BOLD)))
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


def render_pdf(items: Iterable[Block], language: Language) -> bytes:
    pdf = _Pdf(language)
    pdf.set_title(printable(message(language, "document.title")))
    pdf.set_lang(language.value)
    pdf.set_creator("Din plan")
    pdf.add_page()
    for block in items:
        style, size, height, before = _STYLE[block.kind]
        pdf.set_font("DejaVu", style, size)
        pdf.ln(before)
        pdf.multi_cell(0, height, printable(block.text), align="L", new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
    return bytes(pdf.output())


def to_pdf(document: DraftDocument, directory: UnitsDirectory | None = None) -> bytes:
    """The PDF of this copy of the draft (use `document.for_unit()` for the unit's)."""
    return render_pdf(blocks(document, directory), document.language)
