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


# Authentication (OpenRosa: ODK Collect, Enketo, Briefcase) and collector set-up.
# A 401 makes clients ask for a password (the view adds the WWW-Authenticate challenge); a bad
# collector link is a 403 so that Collect does not pop up a password prompt nobody can answer.
AUTH_REQUIRED = ProblemType("401.30", 401, "Sign in with your username and password.")
AUTH_FAILED = ProblemType("401.31", 401, "Wrong username or password.")
AUTH_NONCE_STALE = ProblemType("401.32", 401, "Your sign-in has expired; send again.")
AUTH_BASIC_NEEDS_HTTPS = ProblemType(
    "401.33",
    401,
    "Passwords are only sent in clear over https; use an https server address or Digest authentication.",
)
AUTH_ACCOUNT_DISABLED = ProblemType("401.34", 401, "This account is disabled; ask your administrator.")
AUTH_TOKEN_INVALID = ProblemType(
    "403.30", 403, "This collector link is not valid; ask your administrator for a new QR code."
)
COLLECTOR_NO_AREA = ProblemType("400.30", 400, "A collector needs at least one protected area.")
COLLECTOR_UNKNOWN_AREAS = ProblemType("400.31", 400, "No protected area with id {ids}; nothing created.")
COLLECTOR_BAD_PASSWORD = ProblemType("400.32", 400, "Password refused: {reasons}")
COLLECTOR_BAD_USERNAME = ProblemType("400.33", 400, "Username refused: {reasons}")
COLLECTOR_USERNAME_TAKEN = ProblemType("409.30", 409, "A user named {username!r} already exists.")

