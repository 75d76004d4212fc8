"""The PDF's fonts and line breaking: a subset of DejaVu for the usual draft, the whole font for
anything else it can draw, and lines that fit the page without losing a character."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from fpdf import FPDF

from dialogs.draft import Language
from storage.exports import fonts
from storage.exports.fonts import fonts_for, full_fonts, subset_fonts
from storage.exports.pdf import Block, printable, render_pdf, wrapped
from tests.fakes import pdf_text


def embedded_font_sizes(content: bytes) -> list[int]:
    """The /Length1 (uncompressed size) of each embedded TrueType font program."""
    return [int(n) for n in re.findall(rb"/Length1 (\d+)", content)]


NORWEGIAN_AND_MORE = ("Æ ø å, samisk á č đ ŋ š ŧ ž, kvensk ä ö, «sitat» – 50 € → "
                      "Олена Шевченко, Ελένη")


def test_the_usual_draft_is_set_in_the_subset() -> None:
    assert fonts_for([NORWEGIAN_AND_MORE]) == subset_fonts()
    assert subset_fonts().covered < full_fonts().covered
    assert ord(printable("\N{REPLACEMENT CHARACTER}")) in subset_fonts().covered


def test_a_character_only_the_full_font_has_uses_the_full_font() -> None:
    arabic_and_emoji = printable("مرحبا 😀")
    assert "\N{REPLACEMENT CHARACTER}" not in arabic_and_emoji  # DejaVu draws both
    assert fonts_for([NORWEGIAN_AND_MORE, arabic_and_emoji]) == full_fonts()


def test_both_fonts_print_the_same_text() -> None:
    usual = render_pdf([Block("title", "Tittel"), Block("line", NORWEGIAN_AND_MORE)],
                       Language.BOKMAL)
    wide = render_pdf([Block("title", "Tittel"), Block("line", NORWEGIAN_AND_MORE + " 😀")],
                      Language.BOKMAL)
    assert NORWEGIAN_AND_MORE in pdf_text(usual)
    assert NORWEGIAN_AND_MORE + " 😀" in pdf_text(wide)
    # The subset's font programs are smaller before fpdf2 subsets them again for the document:
    # the proof that the subset, not the whole font, was parsed.
    assert max(embedded_font_sizes(usual)) <= max(embedded_font_sizes(wide))


def test_the_subset_is_made_once_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            ) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = fonts._cache_folder()
    assert folder == tmp_path / "dinplan" / "fonts"
    source = fonts.font_path(fonts.REGULAR)
    first = fonts._subset_of(source, folder)
    made_at = first.stat().st_mtime_ns
    again = fonts._subset_of(source, folder)
    assert again == first
    assert again.stat().st_mtime_ns == made_at
    assert [p.name for p in folder.iterdir()] == [first.name]  # no partial file left behind


def test_a_cache_that_is_a_file_falls_back_to_a_temporary_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache that cannot be made (here: a file where the folder should be; a read-only home
    is the same to the code, but CI runs as root, who may write anywhere)."""
    (tmp_path / "dinplan").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = fonts._cache_folder()
    assert folder.is_dir()
    assert not folder.is_relative_to(tmp_path)


# Line breaking ---------------------------------------------------------------------------------

@pytest.fixture
def pdf() -> FPDF:
    pdf = FPDF()
    pdf.add_font("DejaVu", "", str(subset_fonts().regular))
    pdf.set_font("DejaVu", "", 10.5)
    return pdf


def test_lines_fit_and_keep_every_word(pdf: FPDF) -> None:
    text = "Jeg liker å gå tur i skogen med hunden min når været er fint. " * 20
    lines = wrapped(pdf, text.strip(), 100)
    assert len(lines) > 5
    assert all(pdf.get_string_width(line) <= 100 for line in lines)
    assert " ".join(lines) == text.strip()
    # Greedy: no line could have taken the next line's first word.
    for line, after in itertools.pairwise(lines):
        assert pdf.get_string_width(f"{line} {after.split(' ')[0]}") > 100


def test_a_word_wider_than_the_line_is_split_inside(pdf: FPDF) -> None:
    word = "å" * 300
    lines = wrapped(pdf, f"før {word} etter", 80)
    assert all(pdf.get_string_width(line) <= 80 for line in lines)
    assert "".join(lines).replace(" ", "") == f"før{word}etter"


def test_line_breaks_and_empty_lines_are_kept(pdf: FPDF) -> None:
    assert wrapped(pdf, "en\n\nto", 100) == ["en", "", "to"]
    assert wrapped(pdf, "", 100) == [""]


def test_a_line_narrower_than_one_character_still_ends(pdf: FPDF) -> None:
    assert wrapped(pdf, "ab", 0.1) == ["a", "b"]
