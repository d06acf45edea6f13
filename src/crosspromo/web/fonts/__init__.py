"""Vendored DejaVu Sans 2.37 (npm `dejavu-fonts-ttf`, licence in LICENSE.DejaVu.txt).

PDFs embed it so Cyrillic prints without fonts installed on the machine.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"
FONT = "DejaVu"  # the family name PDFs register the files under


def font_path(bold: bool = False) -> Path:
    """The TrueType file of DejaVu Sans, regular or bold."""
    return Path(str(files(__name__).joinpath(BOLD if bold else REGULAR)))


def a4_document(title: str, margin: float) -> Any:
    """An A4 fpdf2 document with DejaVu (regular and bold) as FONT, margins and a first page."""
    from fpdf import FPDF  # loaded when a PDF is made: start-up stays light

    pdf = FPDF(unit="mm", format="A4")
    pdf.set_margins(margin, margin, margin)
    pdf.set_auto_page_break(True, margin=margin)
    pdf.add_font(FONT, "", str(font_path()))
    pdf.add_font(FONT, "B", str(font_path(bold=True)))
    pdf.set_creator("crosspromo")
    pdf.set_title(title)
    pdf.add_page()
    return pdf
