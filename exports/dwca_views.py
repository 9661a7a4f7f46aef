"""The Darwin Core Archive download: a thin view over exports.dwca."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from accounts import access
from accounts.access import Capability
from exports import dwca
from fieldkit import errors
from fieldkit.errors import Problem


@require_GET
@access.policy("capability:export")
def darwin_core_archive(request: HttpRequest) -> HttpResponseBase:
    """GET /api/v1/exports/dwca.zip?area=&year= (area repeated or comma-separated): a Darwin
    Core Archive, patrol days as the Event core with their effort (Humboldt extension) and
    the species records as Occurrences (exports.dwca), streamed as it is written. Whoever
    may export in no area is refused (403)."""
    try:
        if not request.user.is_authenticated:
            raise errors.AUTH_REQUIRED()
        if access.area_ids_with(request.user, Capability.EXPORT) == frozenset():
            raise errors.EXPORT_FORBIDDEN()
        filters = dwca.filters_of(request.GET)
    except Problem as exc:
        return JsonResponse({"code": exc.code, "detail": exc.message}, status=exc.status)
    response = StreamingHttpResponse(dwca.archive_chunks(request, filters), content_type="application/zip")
    name = "dwca" + (f"-{filters.year}" if filters.year else "") + ".zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
