"""The error catalogue: every error a user can meet, with a stable code.

Codes follow the HTTP status they map to, then a number (409.1), so a message seen on a
ranger's phone or in a log can be looked up here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem(Exception):
    code: str
    status: int
    message: str

    def __str__(self) -> str:
        return self.message


class ProblemType:
    def __init__(self, code: str, status: int, template: str) -> None:
        self.code = code
        self.status = status
        self.template = template

    def __call__(self, **details: Any) -> Problem:
        return Problem(self.code, self.status, self.template.format(**details))


# Imports of protected-area boundaries (status 400: the file is at fault).
IMPORT_UNREADABLE = ProblemType("400.20", 400, "{path}: not a geodata file GDAL can read ({detail}).")
IMPORT_NO_LAYERS = ProblemType("400.21", 400, "{path}: the file has no layers.")
IMPORT_LAYER_CHOICE = ProblemType(
    "400.22", 400, "{path} has several layers; choose one with --layer: {layers}."
)
IMPORT_UNKNOWN_LAYER = ProblemType("400.23", 400, "{path} has no layer {layer!r}; it has: {layers}.")
IMPORT_EMPTY = ProblemType("400.24", 400, "{path}: the layer has no features.")
IMPORT_NO_CRS = ProblemType(
    "400.25",
    400,
    "{path}: the layer has no coordinate reference system and its coordinates are not "
    "longitude/latitude; give one with --source-crs.",
)
IMPORT_MISSING_FIELD = ProblemType(
    "400.26", 400, "{path}: no {role} field {field!r}; the fields are: {fields}."
)
IMPORT_UNKNOWN_SCHEMA = ProblemType(
    "400.27",
    400,
    "{path}: not a WDPA file (no WDPAID or SITE_ID field) and no id/name field could be "
    "guessed; give --id-field and --name-field. The fields are: {fields}.",
)
IMPORT_NOT_POLYGONS = ProblemType(
    "400.28", 400, "{path}: the layer holds {kinds}, not polygons; nothing imported."
)
