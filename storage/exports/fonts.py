"""The PDF's fonts: DejaVu Sans (Debian's fonts-dejavu-core), whole or as a smaller subset.

DejaVu Sans has some 6,000 glyphs, and fpdf2 parses and subsets the whole font for every PDF:
most of a PDF's time went there (bench/findings.md, section 4). Nearly every draft needs only
the Latin, Greek and Cyrillic letters and common punctuation of `SUBSET_RANGES`, so a subset of
those (~1,100 glyphs) is made with fontTools once per font version and kept in a cache folder;
a document that uses any other character the full font has (an emoji, Arabic) is set in the
full font, so nothing prints worse than before.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import fontTools
from fontTools import subset
from fontTools.ttLib import TTFont

log = logging.getLogger(__name__)

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
REGULAR, BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"

# Latin (with every Sami and Kven letter), Greek, Cyrillic, punctuation, currency, letter-like
# symbols, arrows, common math, shapes; U+FFFD is the mark for a character no font has.
SUBSET_RANGES = (
    (0x0020, 0x007E), (0x00A0, 0x024F), (0x0250, 0x02FF), (0x0300, 0x036F), (0x0370, 0x03FF),
    (0x0400, 0x052F), (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2100, 0x214F),
    (0x2150, 0x218F), (0x2190, 0x21FF), (0x2200, 0x22FF), (0x25A0, 0x25FF), (0xFFFD, 0xFFFD),
)
# Part of the cache key: change it when SUBSET_RANGES or the subset's options change.
SUBSET_VERSION = "2"


class FontMissingError(RuntimeError):
    """The PDF font is not installed (Debian: fonts-dejavu-core, see .ci/system-deps)."""


@dataclass(frozen=True)
class FontSet:
    """The two faces a PDF uses, and the code points both can draw."""

    regular: Path
    bold: Path
    covered: frozenset[int]


def font_path(name: str) -> Path:
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise FontMissingError(f"{name} not found in {', '.join(map(str, FONT_DIRS))}; "
                           "install the Debian package fonts-dejavu-core")


def _cmap(path: Path) -> frozenset[int]:
    return frozenset(TTFont(path, lazy=True).getBestCmap())


@cache
def full_fonts() -> FontSet:
    regular, bold = font_path(REGULAR), font_path(BOLD)
    return FontSet(regular, bold, _cmap(regular) & _cmap(bold))


@cache
def subset_fonts() -> FontSet:
    """The subset faces, made on first use (about half a second) or found in the cache."""
    folder = _cache_folder()
    paths = [_subset_of(font_path(name), folder) for name in (REGULAR, BOLD)]
    return FontSet(paths[0], paths[1], _cmap(paths[0]) & _cmap(paths[1]))


def fonts_for(texts: list[str]) -> FontSet:
    """The subset when it can draw every character of `texts`, else the full fonts."""
    small = subset_fonts()
    needed = {ord(char) for text in texts for char in text if char != "\n"}
    return small if needed <= small.covered else full_fonts()


def _subset_of(source: Path, folder: Path) -> Path:
    stat = source.stat()
    key = hashlib.sha256(f"{source.name}|{stat.st_size}|{stat.st_mtime_ns}|{SUBSET_VERSION}|"
                         f"{fontTools.version}".encode()).hexdigest()[:16]
    # fpdf2 tells a font's kind by its file name's extension.
    target = folder / f"{source.stem}-{key}.ttf"
    if target.is_file():
        return target
    font = TTFont(source, recalcTimestamp=False)
    options = subset.Options(notdef_outline=True, recommended_glyphs=True, name_IDs=["*"],
                             name_languages=["*"], glyph_names=True, layout_features=[])
    # What fpdf2 drops from an embedded font anyway (it does no text shaping here).
    options.drop_tables += ["FFTM", "GDEF", "GPOS", "GSUB", "hdmx", "kern"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes={c for low, high in SUBSET_RANGES for c in range(low, high + 1)})
    subsetter.subset(font)
    # Written beside the target and renamed: another process never reads half a font.
    handle, partial = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        font.save(out)
    os.replace(partial, target)
    return target


def _cache_folder() -> Path:
    """$XDG_CACHE_HOME/dinplan/fonts (~/.cache by default), kept between runs; a throw-away
    folder for this process when that cannot be written (a read-only home in a container)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "dinplan" / "fonts"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=folder)  # noqa: SIM115 - closed at once
        probe.close()
        return folder
    except OSError:
        log.info("font cache folder %s is not writable; using a temporary one", folder)
        temporary = Path(tempfile.mkdtemp(prefix="dinplan-fonts-"))
        atexit.register(shutil.rmtree, temporary, ignore_errors=True)
        return temporary
