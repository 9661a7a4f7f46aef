"""A small vocabulary for writing XLSForms as Python data, and the spreadsheet writer.

A form is a `Form`: its settings, a survey (rows, nested lists allowed, groups and
repeats written with `group()`), and choices. `Form.sheets()` gives the exact cell values
of each sheet; `write_workbook()` writes them with openpyxl and `read_workbook()` reads a
spreadsheet back into the same shape, so a test can compare the committed .xlsx with a
fresh build cell by cell.

Translatable columns (label, hint, constraint and required messages) take a `T(en, tpi)`
or a plain English string. In a bilingual form a missing Tok Pisin text repeats the
English one: pyxform would otherwise show "-" to a ranger who reads the form in Tok Pisin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font

EN = "English (en)"
TPI = "Tok Pisin (tpi)"
BILINGUAL = (EN, TPI)
ENGLISH_ONLY = (EN,)

# The bind attributes read by observations.vocabulary.
MAP_COLUMN = "bind::fieldkit:map"
RECORD_COLUMN = "bind::fieldkit:record"


@dataclass(frozen=True)
class T:
    """A text in English and, where one is written, Tok Pisin."""

    en: str
    tpi: str | None = None

    def get(self, language: str) -> str:
        if language == TPI and self.tpi:
            return self.tpi
        return self.en


Text: TypeAlias = T | str
Row: TypeAlias = dict[str, object]
Rows: TypeAlias = Sequence["Row | Rows"]

TRANSLATED = ("label", "hint", "required_message", "constraint_message")
# Column order of the survey sheet; columns no row uses are left out.
SURVEY_COLUMNS = (
    "type",
    "name",
    "label",
    "hint",
    "required",
    "required_message",
    "relevant",
    "constraint",
    "constraint_message",
    "appearance",
    "parameters",
    "choice_filter",
    "calculation",
    "trigger",
    "default",
    "read_only",
    "repeat_count",
    RECORD_COLUMN,
    MAP_COLUMN,
)
# Columns a question takes as keyword arguments (the others have parameters of their own).
_SURVEY_KEYS = set(SURVEY_COLUMNS) - {"type", "name", "label", RECORD_COLUMN, MAP_COLUMN}


def q(type_: str, name: str, label: Text | None = None, *, to: str = "", **columns: object) -> Row:
    """One survey row. `to` is the fieldkit mapping target; `required=True` writes "yes"."""
    unknown = set(columns) - _SURVEY_KEYS
    if unknown:
        raise TypeError(f"{name}: unknown survey columns {sorted(unknown)}")
    row: Row = {"type": type_, "name": name}
    if label is not None:
        row["label"] = label
    for key, value in columns.items():
        if value is None or value is False or value == "":
            continue
        row[key] = "yes" if value is True else value
    if to:
        row[MAP_COLUMN] = to
    return row


def group(
    name: str,
    label: Text | None,
    rows: Rows,
    *,
    repeat: bool = False,
    record: str = "",
    appearance: str = "",
    relevant: str = "",
) -> list[Row | Rows]:
    """A group (or repeat) around `rows`; `record` is its fieldkit record kind."""
    kind = "repeat" if repeat else "group"
    begin = q(f"begin_{kind}", name, label, appearance=appearance, relevant=relevant)
    if record:
        begin[RECORD_COLUMN] = record
    return [begin, *rows, {"type": f"end_{kind}", "name": ""}]


def flatten(rows: Iterable[Row | Rows]) -> list[Row]:
    flat: list[Row] = []
    for item in rows:
        if isinstance(item, dict):
            flat.append(item)
        else:
            flat.extend(flatten(item))
    return flat


@dataclass(frozen=True)
class Choice:
    list_name: str
    name: str
    label: Text
    # Extra columns, used by choice filters (`vertical`, `parent`...).
    extra: Mapping[str, str] = field(default_factory=dict)


def choices(list_name: str, items: Iterable[tuple[str, Text]], **extra: Mapping[str, str]) -> list[Choice]:
    """A choice list from (name, label) pairs; `extra[column][name]` adds filter columns."""
    return [
        Choice(list_name, name, label, {col: values[name] for col, values in extra.items() if name in values})
        for name, label in items
    ]


@dataclass(frozen=True)
class Form:
    stem: str  # file name without .xlsx
    form_id: str
    title: str
    version: str  # yyyymmddNN: bump on every change to the form
    instance_name: str
    survey: Rows
    choices: Sequence[Choice] = ()
    languages: tuple[str, ...] = BILINGUAL
    namespaces: str = ""
    style: str = ""

    @property
    def filename(self) -> str:
        return f"{self.stem}.xlsx"

    def rows(self) -> list[Row]:
        return flatten(self.survey)

    def sheets(self) -> dict[str, list[list[str]]]:
        """Cell values of the survey, choices and settings sheets, header first."""
        return {
            "survey": self._survey_sheet(),
            "choices": self._choices_sheet(),
            "settings": self._settings_sheet(),
        }

    def _columns(self, base: Iterable[str]) -> list[str]:
        columns: list[str] = []
        for column in base:
            if column in TRANSLATED:
                columns.extend(f"{column}::{language}" for language in self.languages)
            else:
                columns.append(column)
        return columns

    def _cell(self, row: Mapping[str, object], column: str) -> str:
        key, _, language = column.partition("::")
        if key not in TRANSLATED:
            key, language = column, ""
        value = row.get(key)
        if value is None:
            return ""
        if isinstance(value, T):
            return value.get(language or EN)
        return str(value)  # a plain string is English, and stands in for other languages

    def _survey_sheet(self) -> list[list[str]]:
        rows = self.rows()
        used = {key for row in rows for key in row}
        columns = self._columns(c for c in SURVEY_COLUMNS if c in used)
        unknown = used - set(SURVEY_COLUMNS)
        if unknown:
            raise ValueError(f"{self.stem}: unknown survey columns {sorted(unknown)}")
        return [columns, *([self._cell(row, c) for c in columns] for row in rows)]

    def _choices_sheet(self) -> list[list[str]]:
        extra: list[str] = []
        for choice in self.choices:
            extra.extend(c for c in choice.extra if c not in extra)
        columns = ["list_name", "name", *self._columns(["label"]), *extra]
        sheet = [columns]
        for choice in self.choices:
            row = {"list_name": choice.list_name, "name": choice.name, "label": choice.label, **choice.extra}
            sheet.append([self._cell(row, c) for c in columns])
        return sheet

    def _settings_sheet(self) -> list[list[str]]:
        settings = {
            "form_title": self.title,
            "form_id": self.form_id,
            "version": self.version,
            "instance_name": self.instance_name,
            "default_language": self.languages[0],
            "namespaces": self.namespaces,
            "style": self.style,
        }
        settings = {k: v for k, v in settings.items() if v}
        return [list(settings), list(settings.values())]


# --- Spreadsheets ----------------------------------------------------------------------

_WIDTHS = {"type": 34, "name": 24, "label": 44, "hint": 40, "relevant": 36, "constraint": 36}


def write_workbook(form: Form, path: Path) -> None:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, values in form.sheets().items():
        sheet = workbook.create_sheet(title)
        for row in values:
            sheet.append([value if value != "" else None for value in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            base = str(cell.value).partition("::")[0]
            width = _WIDTHS.get(base, 18 if title != "choices" else 30)
            sheet.column_dimensions[cell.column_letter].width = width
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(vertical="top", wrap_text=True)
        sheet.freeze_panes = "C2" if title == "survey" else "A2"
    # Fixed document properties keep rebuilt files identical apart from timestamps.
    workbook.properties.creator = "fieldkit standard_forms/build.py"
    workbook.save(path)


def read_workbook(path: Path) -> dict[str, list[list[str]]]:
    """Cell values of every sheet, as strings, without trailing empty cells or rows."""
    workbook = load_workbook(path, read_only=True, data_only=True)
    sheets: dict[str, list[list[str]]] = {}
    for sheet in workbook.worksheets:
        rows: list[list[str]] = []
        for values in sheet.iter_rows(values_only=True):
            row = ["" if v is None else str(v) for v in values]
            while row and row[-1] == "":
                row.pop()
            rows.append(row)
        while rows and not rows[-1]:
            rows.pop()
        sheets[sheet.title] = rows
    workbook.close()
    return sheets


def trimmed(sheets: Mapping[str, list[list[str]]]) -> dict[str, list[list[str]]]:
    """`Form.sheets()` in the shape `read_workbook()` returns."""
    out: dict[str, list[list[str]]] = {}
    for title, rows in sheets.items():
        trimmed_rows = []
        for row in rows:
            row = list(row)
            while row and row[-1] == "":
                row.pop()
            trimmed_rows.append(row)
        while trimmed_rows and not trimmed_rows[-1]:
            trimmed_rows.pop()
        out[title] = trimmed_rows
    return out
