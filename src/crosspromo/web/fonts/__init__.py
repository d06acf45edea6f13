"""Vendored DejaVu Sans 2.37 (npm `dejavu-fonts-ttf`, licence in LICENSE.DejaVu.txt).

PDFs embed it so Cyrillic prints without fonts installed on the machine.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"


def font_path(bold: bool = False) -> Path:
    """The TrueType file of DejaVu Sans, regular or bold."""
    return Path(str(files(__name__).joinpath(BOLD if bold else REGULAR)))
