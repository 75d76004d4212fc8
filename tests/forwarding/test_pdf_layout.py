"""The PDF's fonts and layout: DejaVu embedded with only the glyphs a document draws, text the
font lacks shown as "�", lines that fit the page without losing a character, and a page
number that knows how many pages there are."""

from __future__ import annotations

import itertools
import re
from functools import partial

import pytest
from reportlab.pdfbase.pdfmetrics import stringWidth

from dialogs.draft import Language
from storage.exports.fonts import REGULAR_NAME, registered_fonts
from storage.exports.pdf import Block, printable, render_pdf, wrapped
from tests.fakes import pdf_text

NORWEGIAN_AND_MORE = ("Æ ø å, samisk á č đ ŋ š ŧ ž, kvensk ä ö, «sitat» – 50 € → "
                      "Олена Шевченко, Ελένη")


def embedded_font_sizes(content: bytes) -> list[int]:
    """The uncompressed size of each embedded TrueType font program."""
    return [int(n) for n in re.findall(rb"/Length1 (\d+)", content)]


def test_norwegian_sami_and_more_print_as_written() -> None:
    content = render_pdf([Block("title", "Tittel"), Block("line", NORWEGIAN_AND_MORE)],
                         Language.BOKMAL)
    assert NORWEGIAN_AND_MORE in pdf_text(content)


def test_only_the_glyphs_drawn_are_embedded() -> None:
    """DejaVu Sans is some 700 KB; a page of Norwegian needs a few dozen glyphs of it."""
    content = render_pdf([Block("line", "Hei")], Language.BOKMAL)
    sizes = embedded_font_sizes(content)
    assert sizes, "no embedded font program"
    assert max(sizes) < 60_000


def test_what_the_font_cannot_draw_becomes_the_replacement_mark() -> None:
    arabic = printable("مرحبا")
    assert "\N{REPLACEMENT CHARACTER}" not in arabic  # DejaVu draws Arabic letters
    assert printable("a\u200db\ufe0f") == "ab"  # joiners and variation selectors go
    assert printable("\U0001D11E") == "\N{REPLACEMENT CHARACTER}"  # a musical symbol it lacks
    assert ord("\N{REPLACEMENT CHARACTER}") in registered_fonts()


def test_the_footer_counts_the_pages() -> None:
    long = " ".join(["Jeg liker å gå tur i skogen med hunden min."] * 300)
    content = render_pdf([Block("title", "Tittel"), Block("line", long)], Language.NYNORSK)
    text = pdf_text(content)
    pages = text.count("\f")  # pdftotext ends each page with a form feed
    assert pages >= 3
    for page in range(1, pages + 1):
        assert f"Side {page} av {pages}" in text


def test_the_document_says_its_language_title_and_maker() -> None:
    content = render_pdf([Block("line", "Hei")], Language.NYNORSK)
    assert b"/Lang (nn)" in content
    assert b"/Title (Utkast til individuell plan og koordinator)" in content
    assert b"/Creator (Din plan)" in content


# Line breaking ---------------------------------------------------------------------------------

@pytest.fixture
def measure() -> partial[float]:
    registered_fonts()
    return partial(stringWidth, fontName=REGULAR_NAME, fontSize=10.5)


def test_lines_fit_and_keep_every_word(measure: partial[float]) -> None:
    text = "Jeg liker å gå tur i skogen med hunden min når været er fint. " * 20
    lines = wrapped(text.strip(), 280, measure)
    assert len(lines) > 5
    assert all(measure(line) <= 280 for line in lines)
    assert " ".join(lines) == text.strip()
    # Greedy: no line could have taken the next line's first word.
    for line, after in itertools.pairwise(lines):
        assert measure(f"{line} {after.split(' ')[0]}") > 280


def test_a_word_wider_than_the_line_is_split_inside(measure: partial[float]) -> None:
    word = "å" * 300
    lines = wrapped(f"før {word} etter", 220, measure)
    assert len(lines) > 3
    assert all(measure(line) <= 220 for line in lines)
    assert "".join(lines).replace(" ", "") == f"før{word}etter"


def test_line_breaks_and_empty_lines_are_kept(measure: partial[float]) -> None:
    assert wrapped("en\n\nto", 280, measure) == ["en", "", "to"]
    assert wrapped("", 280, measure) == [""]


def test_a_line_narrower_than_one_character_still_ends(measure: partial[float]) -> None:
    assert wrapped("ab", 0.1, measure) == ["a", "b"]
