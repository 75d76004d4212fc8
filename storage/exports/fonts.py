"""The PDF's fonts: DejaVu Sans (Debian's fonts-dejavu-core), registered with ReportLab once
per process.

ReportLab parses a TrueType font when it is registered (some 30 ms for both faces) and, for each
document, embeds only the glyphs that document draws; the bot makes its PDFs in one long-lived
worker process (bot/pdf_process.py), so the parse is paid once. ReportLab itself is imported
on first use: the bot's process imports this module for `FontMissingError` (raised in the
worker, re-raised in the bot) and never makes a PDF itself.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
REGULAR, BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
# The names the document's text is set in.
REGULAR_NAME, BOLD_NAME = "DejaVuSans", "DejaVuSans-Bold"


class FontMissingError(RuntimeError):
    """The PDF font is not installed (Debian: fonts-dejavu-core, see .ci/system-deps)."""


def font_path(name: str) -> Path:
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise FontMissingError(f"{name} not found in {', '.join(map(str, FONT_DIRS))}; "
                           "install the Debian package fonts-dejavu-core")


def _to_unicode_cmap(original: Any) -> Any:
    """ReportLab's map from the PDF's codes back to text writes each character as four hex
    digits, so one beyond U+FFFF (an emoji) reads back as another when the text is copied or
    read aloud (😀 as ὠ). The PDF standard asks for UTF-16BE, which the map made here writes."""
    def cmap_for(fontname: str, subset: list[int]) -> str:
        cmap: str = original(fontname, subset)
        for code, char in enumerate(subset):
            if char > 0xFFFF:
                utf16 = chr(char).encode("utf-16-be").hex().upper()
                cmap = cmap.replace(f"\n<{code:02X}> <{char:04X}>\n",
                                    f"\n<{code:02X}> <{utf16}>\n")
        return cmap
    return cmap_for


@cache
def registered_fonts() -> frozenset[int]:
    """Register both faces with ReportLab (once); the code points both can draw."""
    from reportlab.pdfbase import pdfmetrics, ttfonts
    from reportlab.pdfbase.ttfonts import TTFont

    faces = [TTFont(name, str(font_path(file)))
             for name, file in ((REGULAR_NAME, REGULAR), (BOLD_NAME, BOLD))]
    ttfonts.makeToUnicodeCMap = _to_unicode_cmap(ttfonts.makeToUnicodeCMap)
    for face in faces:
        pdfmetrics.registerFont(face)
    regular, bold = (frozenset(face.face.charToGlyph) for face in faces)
    return regular & bold
