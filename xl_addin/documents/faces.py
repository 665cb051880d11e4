"""The faces and languages a generated .docx declares: one Latin face and a Simplified
Chinese face for East Asian text, set in the document defaults, not only the Normal style,
because tables take their text from the defaults (python-docx's blank document says ja-JP
and the theme's Japanese face there, and LibreOffice then set the Chinese in tables with
Japanese glyph forms). The letter and statement templates (letters/make_*_templates.py)
and the meeting pack (documents/meeting_pack.py) share them.
"""

from __future__ import annotations

from docx.oxml.ns import qn
from docx.shared import Pt

# Word's faces, which LibreOffice replaces by metric twins (Calibri: Carlito; Times New Roman:
# Liberation Serif; SimSun: Noto Serif CJK SC for zh-CN text). Chinese documents pair 宋体 with
# Times New Roman, as Chinese business documents do.
FONTS = {"en": ("Calibri", "SimSun"), "zh": ("Times New Roman", "SimSun")}
# The language of Latin-script text: zh-CN there would let Chinese line breaking split
# "SH-LTR-20261130-0003" between letters. Chinese text is zh-CN (w:eastAsia).
LANGUAGE = {"en": "en-GB", "zh": "en-US"}
BODY_SIZE = 9.5  # points


def set_faces(doc, lang: str) -> None:
    """Declare `lang`'s faces and languages in the document defaults and the Normal style
    (9.5 pt), with single line spacing and nothing after a paragraph unless asked, so that
    table rows stay one line high."""
    latin, east_asia = FONTS[lang]
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    r_pr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = r_pr.find(qn("w:rFonts"))
    for name in list(fonts.attrib):
        del fonts.attrib[name]
    for slot in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(slot), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    language = r_pr.find(qn("w:lang"))
    language.set(qn("w:val"), LANGUAGE[lang])
    language.set(qn("w:eastAsia"), "zh-CN")
    spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    style = doc.styles["Normal"]
    style.font.name = latin
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asia)
    style.font.size = Pt(BODY_SIZE)
    style.element.get_or_add_rPr().append(language.__copy__())


def add_run(paragraph, text: str, *, size: float | None = None, bold: bool = False,
            color=None):  # fmt: skip
    """A run of `text` at the end of `paragraph`, at `size` points (None: the style's), bold
    or not, in `color` (an RGBColor; None: the style's)."""
    run = paragraph.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    if color is not None:
        run.font.color.rgb = color
    return run
