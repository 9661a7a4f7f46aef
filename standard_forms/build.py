"""Build the standard XLSForms from their Python definitions.

    python standard_forms/build.py            write standard_forms/*.xlsx
    python standard_forms/build.py --check    exit 1 if a committed .xlsx differs from a fresh build

Run from the project root (or anywhere: the project root is put on sys.path).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from standard_forms import FORMS_DIR, STANDARD_FORMS
from standard_forms.xlsform import Form, read_workbook, trimmed, write_workbook


def standard_forms() -> list[Form]:
    return [importlib.import_module(f"standard_forms.{stem}").FORM for stem in STANDARD_FORMS]


def build(directory: Path = FORMS_DIR) -> list[Path]:
    paths = []
    for form in standard_forms():
        path = directory / form.filename
        write_workbook(form, path)
        paths.append(path)
    return paths


def differences(directory: Path = FORMS_DIR) -> list[str]:
    """Forms whose spreadsheet in `directory` does not hold what their definition builds."""
    found = []
    for form in standard_forms():
        path = directory / form.filename
        if not path.exists():
            found.append(f"{form.filename}: missing")
        elif read_workbook(path) != trimmed(form.sheets()):
            found.append(
                f"{form.filename}: differs from standard_forms/{form.stem}.py; "
                "run python standard_forms/build.py"
            )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    if args.check:
        problems = differences()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for path in build():
        print(f"wrote {path.relative_to(FORMS_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
