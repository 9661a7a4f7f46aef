"""The standard XLSForms fieldkit ships.

The spreadsheets in this directory are built by `standard_forms/build.py` from the Python modules
next to it (one per form) and committed, so they can be read and reviewed as spreadsheets
and published as they are. See standard_forms/README.md.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

# The code an area is named by in areas.csv and the forms' answers, read back by observations.
from observations.parsing import area_code as area_code

FORMS_DIR = Path(__file__).resolve().parent
MEDIA_DIR = FORMS_DIR / "media"

# File stems, in the order an agency meets them.
STANDARD_FORMS = ("patrol", "incident", "species", "resource_use", "mett", "budget")

# Media the forms refer to. `taxa.csv` is committed in media/; `areas.csv` lists a form's
# protected areas, is written when the forms are published and is narrowed for each user
# who downloads it (see README).
COMMITTED_MEDIA = ("taxa.csv",)
GENERATED_MEDIA = ("areas.csv",)


def xlsx_path(name: str) -> Path:
    return FORMS_DIR / f"{name}.xlsx"


def areas_csv(areas: Iterable[tuple[str, str]]) -> bytes:
    """The areas.csv media file from (code, name) pairs: the list the METT, budget and
    incident forms choose a protected area from, sorted by name."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "label"])
    for code, name in sorted(areas, key=lambda area: (area[1].casefold(), area[0])):
        if not code or any(c.isspace() for c in code):
            raise ValueError(f"area code {code!r} must be non-empty and without spaces")
        writer.writerow([code, name])
    return buffer.getvalue().encode("utf-8")
