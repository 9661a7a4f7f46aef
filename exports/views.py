"""Export downloads: thin views over exports.records, which reads through the access
policy. Whoever may export in no area is refused (403); the rows are those of the areas
where the user may export."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from django.http import FileResponse, HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from accounts import access
from accounts.access import Capability
from exports import dwca, formats, kinds, observation_rows, records
from exports.record_views import queued_if_large
from fieldkit import errors
from fieldkit.errors import Problem


def _problem(exc: Problem) -> JsonResponse:
    return JsonResponse({"code": exc.code, "detail": exc.message}, status=exc.status)


def _filters(request: HttpRequest) -> records.Filters:
    if not request.user.is_authenticated:
        raise errors.AUTH_REQUIRED()
    if access.area_ids_with(request.user, Capability.EXPORT) == frozenset():
        raise errors.EXPORT_FORBIDDEN()
    return records.filters_of(request.GET)


def _stream(
    request: HttpRequest,
    writer: Callable[[Any, records.Filters], Iterator[str] | Iterator[bytes]],
    content_type: str,
    name: str,
) -> HttpResponseBase:
    try:
        filters = _filters(request)
    except Problem as exc:
        return _problem(exc)
    response = StreamingHttpResponse(writer(request, filters), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
@access.policy("capability:export")
def observations_csv(request: HttpRequest) -> HttpResponseBase:
    """GET /api/v1/exports/observations.csv?area=&zone=&since=&until=&vertical=&category=
    The fast path: one COPY on PostgreSQL, values_list elsewhere (exports.observation_rows)."""
    return _stream(request, observation_rows.csv_bytes, "text/csv; charset=utf-8", "observations.csv")


@require_GET
@access.policy("capability:export")
def observations_geojson(request: HttpRequest) -> HttpResponseBase:
    """GET /api/v1/exports/observations.geojson?area=&zone=&since=&until=&vertical=&category="""
    return _stream(request, records.geojson_chunks, "application/geo+json", "observations.geojson")


@require_GET
@access.policy("capability:export")
def observations_geopackage(request: HttpRequest) -> HttpResponseBase:
    """GET /api/v1/exports/observations.gpkg?area=&zone=&since=&until=&vertical=&category=
    Written to a temporary file chunk by chunk, then sent; the file is gone once sent. More
    than EXPORT_STREAM_MAX_ROWS rows: an export job instead (202), as for every other kind,
    so that no request outlasts the server's time-out."""
    try:
        filters = _filters(request)
        total = kinds.KINDS["observations"].count(request.user, filters)
    except Problem as exc:
        return _problem(exc)
    queued = queued_if_large(request, "observations", "gpkg", total)
    if queued is not None:
        return queued
    folder = tempfile.mkdtemp(prefix="fieldkit-export-")
    path = os.path.join(folder, "observations.gpkg")
    try:
        layout, chunks = kinds.KINDS["observations"].read(request, filters)
        formats.write_gpkg(layout, chunks, path)
        handle = open(path, "rb")  # noqa: SIM115 (FileResponse closes it)
    finally:
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)
    return FileResponse(
        handle,
        as_attachment=True,
        filename="observations.gpkg",
        content_type="application/geopackage+sqlite3",
    )


@require_GET
@access.policy("capability:export")
def darwin_core_archive(request: HttpRequest) -> HttpResponseBase:
    """GET /api/v1/exports/dwca.zip?area=&year= (area repeated or comma-separated): a Darwin
    Core Archive, patrol days as the Event core with their effort (Humboldt extension) and
    the species records as Occurrences (exports.dwca), streamed as it is written."""
    try:
        if not request.user.is_authenticated:
            raise errors.AUTH_REQUIRED()
        if access.area_ids_with(request.user, Capability.EXPORT) == frozenset():
            raise errors.EXPORT_FORBIDDEN()
        filters = dwca.filters_of(request.GET)
    except Problem as exc:
        return _problem(exc)
    response = StreamingHttpResponse(dwca.archive_chunks(request, filters), content_type="application/zip")
    name = "dwca" + (f"-{filters.year}" if filters.year else "") + ".zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
