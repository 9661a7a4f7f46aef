"""The standard XLSForms fieldkit ships.

The spreadsheets in this directory are built by `forms/build.py` from the Python modules
next to it (one per form) and committed, so they can be read and reviewed as spreadsheets
and published as they are. See forms/README.md.
"""

from __future__ import annotations

from pathlib import Path

FORMS_DIR = Path(__file__).resolve().parent
MEDIA_DIR = FORMS_DIR / "media"

# File stems, in the order an agency meets them.
STANDARD_FORMS = ("patrol", "incident", "species", "resource_use", "mett", "budget")

# Media the forms refer to. `taxa.csv` is committed in media/; `areas.csv` lists the
# deployment's protected areas and is written when the forms are published (see README).
COMMITTED_MEDIA = ("taxa.csv",)
GENERATED_MEDIA = ("areas.csv",)


def xlsx_path(name: str) -> Path:
    return FORMS_DIR / f"{name}.xlsx"
