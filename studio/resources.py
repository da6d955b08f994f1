"""Find files under ``resources/`` in a source checkout, an installed wheel or a frozen bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_dir() -> Path:
    """Return the folder holding Studio's resources (icons, sample data, styles)."""
    here = Path(__file__).resolve().parent
    candidates = [
        here / "resources",  # wheel: hatch maps resources/ into the package
        here.parent / "resources",  # source checkout and editable installs
    ]
    bundle = getattr(sys, "_MEIPASS", None)  # PyInstaller
    if bundle:
        candidates.insert(0, Path(bundle) / "studio" / "resources")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("Studio's resources folder is missing from this installation.")


def resource_path(*parts: str) -> Path:
    """Return the path of one resource, e.g. ``resource_path("sample_data", "digits")``."""
    return resource_dir().joinpath(*parts)


def sample_dataset() -> Path:
    """The built-in sample dataset: handwritten digits, one folder per class."""
    return resource_path("sample_data", "digits")
