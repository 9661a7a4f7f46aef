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
AUTH_NONCE_REUSED = ProblemType("401.35", 401, "This sign-in was already used; send again.")
API_BASIC_NEEDS_HTTPS = ProblemType(
    "401.36", 401, "Basic authentication sends the password in clear: the API accepts it only over https."
)
AUTH_LOCKED_OUT = ProblemType(
    "429.30", 429, "Too many wrong passwords for {username!r} from this address: {then}."
)
AUTH_TOKEN_INVALID = ProblemType(
    "403.30", 403, "This collector link is not valid; ask your administrator for a new QR code."
)
COLLECTOR_NO_AREA = ProblemType("400.30", 400, "A collector needs at least one protected area.")
COLLECTOR_UNKNOWN_AREAS = ProblemType("400.31", 400, "No protected area with id {ids}; nothing created.")
COLLECTOR_BAD_PASSWORD = ProblemType("400.32", 400, "Password refused: {reasons}")
COLLECTOR_BAD_USERNAME = ProblemType("400.33", 400, "Username refused: {reasons}")
COLLECTOR_USERNAME_TAKEN = ProblemType("409.30", 409, "A user named {username!r} already exists.")

# Memberships: who may grant which role where (accounts.services, accounts.access).
MEMBERSHIP_NOT_MANAGER = ProblemType(
    "403.70", 403, "Only managers of {area} add or remove its members; ask one of them or an administrator."
)
MEMBERSHIP_NATIONAL = ProblemType(
    "403.71", 403, "Only administrators grant or end national roles (roles in every protected area)."
)
MEMBERSHIP_ROLE_ABOVE_YOURS = ProblemType(
    "403.72", 403, "The role {role!r} opens data your own role does not; an administrator grants it."
)
MEMBERSHIP_EXISTS = ProblemType("409.70", 409, "{username!r} already has a role in {area}; remove it first.")
MEMBERSHIP_NO_AREA = ProblemType(
    "400.70", 400, "A membership is either in one protected area or national, not both, not neither."
)
MEMBERSHIP_UNKNOWN_USER = ProblemType("400.71", 400, "No user named {username!r}.")
MEMBERSHIP_UNKNOWN_AREA = ProblemType("400.72", 400, "No protected area with id {id}.")


# OpenRosa: forms, submissions. Codes follow ODK Central's where one exists (409.1, 404.6,
# 409.2, 409.9, 404.5), so that a message a ranger reads out can be matched to either.
# The message is what ODK Collect shows on the phone: it says what to do next. A submission
# refused after it arrived is kept with all its files (odk_forms.RejectedSubmission) for the
# administrators: these messages never say that nothing was saved, and those that are only
# raised once the files are stored say that a copy was kept.
OPENROSA_BAD_VERSION_HEADER = ProblemType(
    "400.10", 400, "This server speaks OpenRosa 1.0; the request said X-OpenRosa-Version {version!r}."
)
OPENROSA_NOT_MULTIPART = ProblemType(
    "400.11", 400, "A submission is a multipart/form-data request with an xml_submission_file part."
)
OPENROSA_MISSING_XML = ProblemType("400.12", 400, "The submission has no xml_submission_file part.")
OPENROSA_BAD_XML = ProblemType(
    "400.13",
    400,
    "The submission XML could not be read ({detail}); the server kept a copy for your administrator.",
)
OPENROSA_NO_FORM_ID = ProblemType(
    "400.14", 400, "The submission XML names no form (no id attribute on its root element)."
)
OPENROSA_BAD_MULTIPART = ProblemType(
    "400.15", 400, "The upload was cut off or malformed ({detail}); send it again."
)
OPENROSA_ENCRYPTED_WITHOUT_ID = ProblemType(
    "400.16",
    400,
    "An encrypted submission must carry meta/instanceID; the server kept a copy for your administrator.",
)
OPENROSA_BAD_INSTANCE_ID = ProblemType(
    "400.17",
    400,
    "The instanceID is longer than 249 characters; the server kept a copy for your administrator.",
)
OPENROSA_BAD_DEPRECATED_ID = ProblemType(
    "400.18",
    400,
    "The deprecatedID (the record this edit replaces) is longer than 249 characters; the server kept "
    "a copy for your administrator.",
)
OPENROSA_BAD_FILE_NAMES = ProblemType(
    "400.19",
    400,
    "The files of this submission cannot be recorded under their names ({detail}). The record was not "
    "accepted; the server kept it with every file for your administrator.",
)
# No longer raised for submissions: a form the user may not send to is answered like a form
# that does not exist (404.7), so that nobody learns which forms other areas have.
OPENROSA_FORBIDDEN_FORM = ProblemType(
    "403.10", 403, "You are not allowed to send data to form {form_id!r}; ask your area manager."
)
OPENROSA_EDIT_NOT_ALLOWED = ProblemType(
    "403.11",
    403,
    "You may not edit record {deprecated_id}: it was sent by someone else. Ask a manager of your "
    "area; the server kept a copy of your edit.",
)
OPENROSA_UNKNOWN_FORM = ProblemType(
    "404.7",
    404,
    "There is no form {form_id!r} on this server that you may send data to; check the form on your "
    "phone, or ask your area manager for access.",
)
OPENROSA_UNKNOWN_DEPRECATED = ProblemType(
    "404.5",
    404,
    "This edit replaces record {deprecated_id}, which the server does not have; send the original first.",
)
OPENROSA_UNKNOWN_VERSION = ProblemType(
    "404.6",
    404,
    "Form {form_id!r} has no published version {version!r}; get the current form and fill it in again.",
)
OPENROSA_NOT_FOUND = ProblemType("404.8", 404, "Not found.")
OPENROSA_XML_CONFLICT = ProblemType(
    "409.1",
    409,
    "A different record with instanceID {instance_id} was already received. Edit the record on the "
    "phone (that makes a new instanceID) instead of changing the saved file.",
)
OPENROSA_FORM_CLOSED = ProblemType(
    "409.2", 409, "Form {form_id!r} is closed and no longer accepts data; ask your area manager."
)
OPENROSA_ALREADY_SUPERSEDED = ProblemType(
    "409.9",
    409,
    "Record {deprecated_id} has already been replaced by another edit; download the current record "
    "and edit that one.",
)
OPENROSA_LENGTH_REQUIRED = ProblemType(
    "411.1",
    411,
    "The upload was sent in chunks without a Content-Length, which this server cannot read (Django's "
    "development server; gunicorn can). Send it with a Content-Length; the server kept nothing.",
)
OPENROSA_TOO_LARGE = ProblemType(
    "413.1",
    413,
    "The submission is {size} MB; the server takes at most {limit} MB per upload. Make photos "
    "smaller (max-pixels) or send fewer at once.",
)
OPENROSA_XML_TOO_LARGE = ProblemType(
    "413.2",
    413,
    "The submission's XML is {size} MB; records are at most {limit} MB (photos and files go in "
    "their own parts). The server kept a copy for your administrator.",
)
# The server, not the request, is at fault: the phone keeps the record and sends it again.
OPENROSA_SERVER_BUSY = ProblemType(
    "503.10", 503, "The server is busy and could not save this record yet; send it again in a minute."
)
OPENROSA_SERVER_ERROR = ProblemType(
    "500.10",
    500,
    "The server failed to handle this request; the record is still on your phone. Send it again "
    "later, and tell your administrator if this keeps happening.",
)

# Processing submissions after the answer (odk_forms.processing): stored as the submission's
# error for admins.
PROCESSING_INTERRUPTED = ProblemType(
    "500.50",
    500,
    "Processing was interrupted {times} times without finishing (its worker was killed, ran out of "
    "memory or hung); process the submission again once the cause is found.",
)

# Publishing forms (status 400: the form is at fault; 409: it clashes with what is there).
FORM_UNSUPPORTED_FILE = ProblemType(
    "400.40", 400, "{name}: not a form file; send an XLSForm (.xlsx, .xls, .csv, .md) or an XForm (.xml)."
)
FORM_CONVERSION_FAILED = ProblemType("400.41", 400, "{name}: the XLSForm could not be converted: {detail}")
FORM_INVALID = ProblemType("400.42", 400, "{name}: ODK Validate rejected the form: {detail}")
FORM_BAD_XFORM = ProblemType("400.43", 400, "{name}: not a readable XForm: {detail}")
FORM_BAD_MEDIA_NAME = ProblemType(
    "400.44", 400, "Media file name {name!r} is not allowed; use a plain file name without folders."
)
FORM_UNKNOWN_AREAS = ProblemType("400.45", 400, "No protected area with id {ids}; nothing published.")
FORM_DUPLICATE_MEDIA = ProblemType(
    "400.46", 400, "Two different media files are named {name!r}; send one file per name. Nothing published."
)
FORM_NOT_MANAGER = ProblemType(
    "403.40", 403, "Only a manager of every area of form {form_id!r} may change it."
)
FORM_PUBLISH_NOT_ALLOWED = ProblemType(
    "403.41", 403, "Only an area manager may publish forms, and only for areas they manage."
)
FORM_VERSION_EXISTS = ProblemType(
    "409.40",
    409,
    "Form {form_id!r} already has a published version {version!r}; give the new form another version "
    "(the version column of the settings sheet).",
)
FORM_NO_DRAFT = ProblemType("409.41", 409, "Form {form_id!r} has no draft to publish.")
FORM_VALIDATOR_UNAVAILABLE = ProblemType(
    "503.40", 503, "The form could not be checked: ODK Validate did not run ({detail})."
)


# Web forms (Enketo Express beside fieldkit: odk_forms.enketo, odk_forms.webforms).
WEBFORM_NOT_CONFIGURED = ProblemType(
    "404.70", 404, "Web forms are off: fieldkit runs without Enketo (ENKETO_URL is not set)."
)
WEBFORM_UNAVAILABLE = ProblemType("503.70", 503, "No web form link for now: {detail}")
WEBFORM_EDIT_NOT_ALLOWED = ProblemType(
    "403.70", 403, "You may not edit record {instance_id} in the browser: ask a manager of its area."
)
WEBFORM_EDIT_NOT_CURRENT = ProblemType(
    "409.70",
    409,
    "Record {instance_id} has been edited since; edit its newest version ({current}).",
)
WEBFORM_EDIT_ENCRYPTED = ProblemType(
    "409.71",
    409,
    "Record {instance_id} is encrypted: encrypted records cannot be edited in the browser.",
)

# Observations: mapping forms to field records (observations.vocabulary, .services). A
# 400.6x refuses a form at publication; a 422.6x leaves a submission `failed` with this
# message for admins, and the submission is processed again once the cause is fixed.
FORM_MAPPING_INVALID = ProblemType("400.60", 400, "{name}: the form's fieldkit mapping is wrong: {detail}")
INGEST_NO_AREA = ProblemType(
    "422.60",
    422,
    "The {record} names no protected area ({target}) and its form is not in exactly one area; "
    "answer {target} or give the form one area, then process the submission again.",
)
INGEST_UNKNOWN_AREA = ProblemType(
    "422.61",
    422,
    "{target} is {value!r}: no protected area has that WDPA id (or source:id); import the area, "
    "then process the submission again.",
)
INGEST_AREA_NOT_PERMITTED = ProblemType(
    "422.63",
    422,
    "{target} is {value!r}: {area} is not an area where {user} may send data through this form, and "
    "records are placed only in those. If {user} should, give them a role in {area} and add {area} to "
    "the form, then process the submission again.",
)
INGEST_MISSING_VALUE = ProblemType(
    "422.62", 422, "The {record} has no {target}: it cannot be recorded without one."
)
INGEST_DUPLICATE_ASSESSMENT = ProblemType(
    "422.64",
    422,
    "{area} already has a METT assessment for {year} (submission {existing}): an area and year have "
    "one current assessment. Correct that one by editing its submission; this submission is kept, "
    "not recorded.",
)
INGEST_DUPLICATE_BUDGET = ProblemType(
    "422.65",
    422,
    "{area} already has a budget return for fiscal year {year} (submission {existing}): an area and "
    "fiscal year have one return. Correct that one by editing its submission; this submission is "
    "kept, not recorded.",
)

# Law-enforcement cases (enforcement.actions).
CASE_INVALID = ProblemType("400.50", 400, "{detail}")
CASE_RECORD_NOT_ILLICIT = ProblemType(
    "400.51", 400, "Record {record} is not an illicit-activity record of the case's area."
)
CASE_FORBIDDEN = ProblemType("403.50", 403, "You may not work on cases of this area.")
CASE_TRANSITION_FORBIDDEN = ProblemType(
    "403.51", 403, "Your role may not move a case from {current} to {target}."
)
CASE_PERSONAL_DATA_FORBIDDEN = ProblemType("403.52", 403, "You may not read or change personal data here.")
CASE_TRANSITION_INVALID = ProblemType(
    "409.50", 409, "A case cannot go from {current} to {target}; from {current} it may go to: {allowed}."
)
CASE_CLOSED = ProblemType("409.51", 409, "The case is {status}: it takes no more changes.")

# Map data (maps/): the page asked for something that is not a map view.
MAP_BAD_VIEW = ProblemType("400.90", 400, "Map request not understood: {detail}.")
MAP_BAD_FILTER = ProblemType("400.91", 400, "Filter not understood: {detail}.")
MAP_NO_LAYER = ProblemType("400.92", 400, "No context layer {layer!r}; there are: {layers}.")
MAP_NOT_PUBLISHED = ProblemType(
    "403.90", 403, "The indicator {indicator!r} is not published; sign in to see it."
)

# Exports (exports/): a filter that is not understood, a user who may export nowhere.
EXPORT_BAD_FILTER = ProblemType("400.85", 400, "Export filter not understood: {detail}.")
EXPORT_FORBIDDEN = ProblemType(
    "403.85", 403, "You may not export data of any protected area; ask your area manager."
)

# Submission exports (exports/submission_views.py): the raw records of one form.
SUBMISSIONS_BAD_VERSIONS = ProblemType("400.80", 400, "Versions not understood: {detail}.")
SUBMISSIONS_BAD_PARAMETER = ProblemType("400.81", 400, "Export parameter not understood: {detail}.")
SUBMISSIONS_NOT_FOUND = ProblemType(
    "404.80",
    404,
    "No form {form_id} whose submissions you may export: raw submissions hold personal data and exact "
    "locations, and go only to those who may read both and export in every area of the form.",
)
# Darwin Core Archive (exports/dwca.py) and the OData feed (exports/odata.py).
DWCA_BAD_FILTER = ProblemType("400.82", 400, "Darwin Core Archive filter not understood: {detail}.")
ODATA_BAD_FILTER = ProblemType("400.83", 400, "OData $filter not understood: {detail}.")
ODATA_BAD_QUERY = ProblemType("400.84", 400, "OData query not understood: {detail}.")
# A 401 makes Excel and Power BI ask for a username and password (WWW-Authenticate: Basic).
ODATA_AUTH_REQUIRED = ProblemType(
    "401.80", 401, "Sign in: OData clients (Excel, Power BI) send your fieldkit username and password."
)
ODATA_BASIC_NEEDS_HTTPS = ProblemType(
    "401.81",
    401,
    "Basic authentication sends the password in clear: the OData feed accepts it only over https "
    "(or plain http on this computer while https is off).",
)
# Record exports in any format, and export jobs (exports/kinds.py, exports/jobs.py).
EXPORT_FILTER_NOT_APPLICABLE = ProblemType(
    "400.86", 400, "Export of {kind}: these filters do not apply to it: {filters}."
)
EXPORT_FORMAT_NOT_APPLICABLE = ProblemType(
    "400.87", 400, "Export of {kind}: it has no geometry, so no {format} file; try csv, xlsx or gpkg."
)
EXPORT_NOT_FOUND = ProblemType("404.86", 404, "No such export: {detail}.")
EXPORT_JOB_NOT_READY = ProblemType("409.86", 409, "This export is not ready yet ({status}).")
EXPORT_JOB_EXPIRED = ProblemType("410.86", 410, "This export has expired; ask for it again.")
EXPORT_JOB_RIGHTS_LOST = ProblemType(
    "404.78",
    404,
    "This export holds exact locations or personal data of areas where you may no longer read "
    "them; ask for it again.",
)
# Webhooks (webhooks/): a subscription asking for what its owner may not read, or malformed.
WEBHOOK_AREAS_FORBIDDEN = ProblemType(
    "400.88",
    400,
    "A subscription covers only areas whose records or cases you may read; not: {ids}.",
)
WEBHOOK_INVALID = ProblemType("400.89", 400, "Subscription not understood: {detail}.")
WEBHOOK_NOT_FOUND = ProblemType("404.88", 404, "No such subscription or delivery.")
WEBHOOK_DELIVERY_PENDING = ProblemType(
    "409.88", 409, "Delivery {event_id} is still being sent; send it again once it is delivered or failed."
)
