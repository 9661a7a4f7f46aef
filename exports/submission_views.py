"""Downloads of a form's submissions: thin views over exports.submission_files, which says
who may have them (raw submissions: personal data and exact points) and records each
export in the audit."""

from __future__ import annotations

import os
import tempfile

from django.http import FileResponse, HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from accounts import access
from exports import submission_files
from exports.submission_files import Export
from fieldkit import errors
from fieldkit.errors import Problem


def _problem(exc: Problem) -> JsonResponse:
    return JsonResponse({"code": exc.code, "detail": exc.message}, status=exc.status)


def _export(request: HttpRequest, form_id: int) -> Export:
    if not request.user.is_authenticated:
        raise errors.AUTH_REQUIRED()
    form = submission_files.exportable_form(request.user, form_id)
    versions = submission_files.chosen_versions(form, request.GET.get("versions"))
    split = submission_files.flag(request.GET, "splitSelectMultiples")
    group_paths = submission_files.flag(request.GET, "groupPaths", default=True)
    return Export.of(request, form, versions, split, group_paths)


@require_GET
@access.policy("capability:view_personal_data")
def submissions_csv_zip(request: HttpRequest, form_id: int) -> HttpResponseBase:
    """GET /api/v1/exports/forms/<id>/submissions.csv.zip?versions=A..B&media=true
    (&splitSelectMultiples=true&groupPaths=false). ODK Central's layout: one CSV per table
    (repeats joined by PARENT_KEY/KEY), files in media/."""
    try:
        export = _export(request, form_id)
        media = submission_files.flag(request.GET, "media")
    except Problem as exc:
        return _problem(exc)
    response = StreamingHttpResponse(submission_files.csv_zip(export, media), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, f"{export.layout[0].name}.zip") or ""
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@access.policy("capability:view_personal_data")
def submissions_xlsx(request: HttpRequest, form_id: int) -> HttpResponseBase:
    """GET /api/v1/exports/forms/<id>/submissions.xlsx?versions=A..B
    (&splitSelectMultiples=true&groupPaths=false). One sheet for the records, one per
    repeat; written to a temporary file, then sent."""
    try:
        export = _export(request, form_id)
    except Problem as exc:
        return _problem(exc)
    folder = tempfile.mkdtemp(prefix="fieldkit-export-")
    path = os.path.join(folder, "submissions.xlsx")
    try:
        submission_files.write_xlsx(export, path)
        handle = open(path, "rb")  # noqa: SIM115 (FileResponse closes it)
    finally:
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{export.layout[0].name}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Cache-Control"] = "private, no-store"
    return response
