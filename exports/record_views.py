"""Record exports in every format, and export jobs: thin views over exports.kinds,
exports.formats and exports.jobs.

GET /api/v1/exports/<kind>.<format> streams a small export (CSV, GeoJSON) or sends its file
(XLSX, GeoPackage, zipped Shapefile, KML); an export of more than EXPORT_STREAM_MAX_ROWS rows
becomes a job (202, with the job's status URL) that /exports/ lists. A job is its owner's
only: anyone else gets 404.86, as for a job that does not exist.
"""

from __future__ import annotations

import os
import tempfile

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts import access
from accounts.access import Capability
from exports import formats, jobs, kinds, records
from exports.models import ExportJob
from fieldkit import errors
from fieldkit.errors import Problem


def _problem(exc: Problem) -> JsonResponse:
    return JsonResponse({"code": exc.code, "detail": exc.message}, status=exc.status)


def queued_if_large(request: HttpRequest, kind: str, fmt: str, total: int) -> JsonResponse | None:
    """An export of more than EXPORT_STREAM_MAX_ROWS rows becomes a job: 202 with its status
    (no request outlasts the server's time-out); None for one small enough to send now."""
    if total <= settings.EXPORT_STREAM_MAX_ROWS:
        return None
    job = jobs.request_export(request, kind, fmt, request.GET.dict(), total)
    return JsonResponse({**jobs.status_of(job), "page": "/exports/"}, status=202)


def _send_file(fmt: str, layout: formats.Layout, chunks: object, name: str) -> FileResponse:
    folder = tempfile.mkdtemp(prefix="fieldkit-export-")
    path = os.path.join(folder, name)
    try:
        formats.FILE_WRITERS[fmt](layout, chunks, path)  # type: ignore[arg-type]
        handle = open(path, "rb")  # noqa: SIM115 (FileResponse closes it)
    finally:
        for file in os.listdir(folder):
            os.unlink(os.path.join(folder, file))
        os.rmdir(folder)
    return FileResponse(handle, as_attachment=True, filename=name, content_type=formats.FORMATS[fmt][1])


@require_GET
@access.policy("capability:export")
def record_export(request: HttpRequest, kind: str, fmt: str) -> HttpResponseBase:
    """GET /api/v1/exports/<kind>.<csv|xlsx|geojson|gpkg|shp.zip|kml>
    ?area=&zone=&since=&until=&vertical=&category="""
    try:
        if not request.user.is_authenticated:
            raise errors.AUTH_REQUIRED()
        if access.area_ids_with(request.user, Capability.EXPORT) == frozenset():
            raise errors.EXPORT_FORBIDDEN()
        if kind not in kinds.KINDS:
            raise errors.EXPORT_NOT_FOUND(detail=f"no export kind {kind!r}")
        record_kind = kinds.KINDS[kind]
        if formats.FORMATS[fmt][2] and record_kind.geometry is None:
            raise errors.EXPORT_FORMAT_NOT_APPLICABLE(kind=kind, format=fmt)
        filters = records.filters_of(request.GET)
        record_kind.check(request.GET, filters)
        total = record_kind.count(request.user, filters)
    except Problem as exc:
        return _problem(exc)
    queued = queued_if_large(request, kind, fmt, total)
    if queued is not None:
        return queued
    layout, chunks = record_kind.read(request, filters)
    name = f"{kind}.{formats.FORMATS[fmt][0]}"
    if fmt in formats.STREAMS:
        stream = formats.STREAMS[fmt](layout, chunks)
        response = StreamingHttpResponse(stream, content_type=formats.FORMATS[fmt][1])
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return _send_file(fmt, layout, chunks, name)


def _own_job(request: HttpRequest, pk: int) -> ExportJob:
    if not request.user.is_authenticated:
        raise errors.AUTH_REQUIRED()
    job = jobs.jobs_of(request.user).filter(pk=pk).first()
    if job is None:
        raise errors.EXPORT_NOT_FOUND(detail=f"no export job {pk} of yours")
    return job


@require_GET
@access.policy("authenticated")
def job_list(request: HttpRequest) -> HttpResponseBase:
    """GET /api/v1/exports/jobs/: the user's own export jobs."""
    if not request.user.is_authenticated:
        return _problem(errors.AUTH_REQUIRED())
    return JsonResponse({"jobs": [jobs.status_of(job) for job in jobs.jobs_of(request.user)[:100]]})


@require_GET
@access.policy("authenticated")
def job_status(request: HttpRequest, pk: int) -> HttpResponseBase:
    """GET /api/v1/exports/jobs/<id>/: status and progress of one of the user's jobs."""
    try:
        return JsonResponse(jobs.status_of(_own_job(request, pk)))
    except Problem as exc:
        return _problem(exc)


@require_GET
@access.policy("authenticated")
def job_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """GET /api/v1/exports/jobs/<id>/download: the file of a finished job (409.86 before,
    410.86 once expired, 404.78 once its owner may no longer read what it carries); each
    download of a file with exact points or personal data is audited."""
    try:
        job = _own_job(request, pk)
        if job.is_expired():
            raise errors.EXPORT_JOB_EXPIRED()
        if job.status != ExportJob.Status.DONE or not job.file:
            raise errors.EXPORT_JOB_NOT_READY(status=job.status)
        jobs.check_download(job)
    except Problem as exc:
        return _problem(exc)
    jobs.record_download(request, job)
    return FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=job.filename,
        content_type=formats.FORMATS.get(job.format, ("", "application/octet-stream"))[1],
    )


@require_GET
@login_required
@access.policy("authenticated")
def jobs_page(request: HttpRequest) -> HttpResponseBase:
    """GET /exports/: a form to ask for an export, and the user's export jobs, with a
    progress bar and a download link."""
    from protected_areas.models import ProtectedArea

    exportable = access.area_ids_with(request.user, Capability.EXPORT)
    areas = ProtectedArea.objects.order_by("name").only("pk", "name")
    if exportable is not None:
        areas = areas.filter(pk__in=exportable)
    return render(
        request,
        "exports/jobs.html",
        {
            "jobs": [
                {**jobs.status_of(job), "asked": job.created, "until": job.expires_at}
                for job in jobs.jobs_of(request.user)[:100]
            ],
            "kinds": kinds.KINDS,
            "formats": formats.FORMATS,
            "areas": areas,
        },
    )
