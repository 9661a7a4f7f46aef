"""The donor report, as a PDF download: for whoever reads the area's indicators; any other
area, or a year outside 1900–2999, answers 404, so ids reveal nothing."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from accounts import access
from accounts.access import Capability
from protected_areas.models import ProtectedArea
from reports import donor


@require_GET
@access.policy("capability:view_indicators")
@login_required
def area_report(request: HttpRequest, pk: int, year: int) -> HttpResponse:
    """GET /reports/areas/<id>/<year>.pdf"""
    area = get_object_or_404(ProtectedArea.objects.all(), pk=pk)
    if not access.can(request.user, Capability.VIEW_INDICATORS, area) or not 1900 <= year <= 2999:
        raise Http404
    response = HttpResponse(donor.render(area, year), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="report-{area.pk}-{year}.pdf"'
    return response
