"""A CJK font that is embedded in every PDF, so manifests print the same on any machine.

The shipped font is WenQuanYi Micro Hei 0.2.0-beta (Apache-2.0 or GPL-3+ with font exception; see
`fonts/LICENSE-wqy-microhei.txt`), the first face of Debian's `fonts-wqy-microhei` collection
saved as a TrueType file. It has TrueType outlines (which ReportLab embeds as a subset) and covers
GB 2312, GBK and Big5: 20,000+ Han characters, enough for nearly every name.

ReportLab's built-in `STSong-Light` is a CID font that is *not* embedded: the PDF viewer must
supply a matching font, and poppler without Adobe's language packs renders it with missing glyphs.
It is used here only for the rare character the shipped font lacks.
"""

from __future__ import annotations

import functools
from importlib import resources
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

FONT_NAME = "WenQuanYiMicroHei"
FALLBACK_FONT_NAME = "STSong-Light"
FONT_FILE = "wqy-microhei.ttf"


@functools.cache
def register_fonts() -> str:
    """Register the embedded CJK font (once per process) and return its ReportLab name."""
    path = resources.files("api.documents").joinpath("fonts", FONT_FILE)
    with resources.as_file(path) as font_path:
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(font_path)))
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT_NAME))
    return FONT_NAME


@functools.cache
def _covered() -> frozenset[int]:
    register_fonts()
    font = pdfmetrics.getFont(FONT_NAME)
    return frozenset(font.face.charToGlyph)


def missing_characters(text: str) -> set[str]:
    """Characters of `text` that the embedded font has no glyph for."""
    covered = _covered()
    return {c for c in text if ord(c) not in covered and not c.isspace()}


def markup(text: str) -> str:
    """`text` escaped for a ReportLab Paragraph; runs the embedded font lacks use the fallback."""
    covered = _covered()
    parts: list[str] = []
    run: list[str] = []
    run_missing = False
    for char in text:
        missing = ord(char) not in covered and not char.isspace()
        if run and missing != run_missing:
            parts.append(_run("".join(run), run_missing))
            run = []
        run.append(char)
        run_missing = missing
    if run:
        parts.append(_run("".join(run), run_missing))
    return "".join(parts)


def _run(text: str, missing: bool) -> str:
    escaped = escape(text)
    return f'<font name="{FALLBACK_FONT_NAME}">{escaped}</font>' if missing else escaped
