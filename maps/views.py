"""Map data for the pages, as GeoJSON: thin views over maps.data, which reads through the
access policy. Signed-in users only; each sees what its roles allow."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from accounts import access
from fieldkit import errors
from fieldkit.errors import Problem
from indicators.compute import INDICATORS
from maps import data, geo
from observations.models import Vertical

_WORLD = "-180,-90,180,90"


def problem(exc: Problem) -> JsonResponse:
    return JsonResponse({"code": exc.code, "detail": exc.message}, status=exc.status)


def _day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise errors.MAP_BAD_FILTER(detail=f"{name} must be a date (YYYY-MM-DD)") from exc


def filters_of(params: Any) -> data.Filters:
    """The dashboard's filter from the query string: area, since, until, vertical, category."""
    area = params.get("area") or None
    if area is not None and not area.isdigit():
        raise errors.MAP_BAD_FILTER(detail="area must be an area id")
    vertical = params.get("vertical") or None
    if vertical is not None and vertical not in Vertical.values:
        raise errors.MAP_BAD_FILTER(detail=f"vertical must be one of {', '.join(Vertical.values)}")
    since, until = _day(params.get("since"), "since"), _day(params.get("until"), "until")
    if since and until and since > until:
        raise errors.MAP_BAD_FILTER(detail="since must not be after until")
    return data.Filters(
        area=int(area) if area else None,
        since=since,
        until=until,
        vertical=vertical,
        category=params.get("category") or None,
        taxon=params.get("taxon") or None,
    )


def _signed_in(request: HttpRequest) -> None:
    if not request.user.is_authenticated:
        raise errors.AUTH_REQUIRED()


def _view(params: Any) -> tuple[geo.Bounds, int]:
    try:
        return geo.Bounds.parse(params.get("bbox") or _WORLD), geo.zoom_of(params.get("zoom"))
    except geo.BadBounds as exc:
        raise errors.MAP_BAD_VIEW(detail=str(exc)) from exc


@require_GET
@access.policy("authenticated")
def observations(request: HttpRequest) -> HttpResponse:
    """GET /maps/data/observations.geojson?bbox=&zoom=&area=&since=&until=&vertical=&category=
    Clusters per vertical, or single points when zoomed in; sensitive points generalised."""
    try:
        _signed_in(request)
        bounds, zoom = _view(request.GET)
        return JsonResponse(data.observations_layer(request, filters_of(request.GET), bounds, zoom))
    except Problem as exc:
        return problem(exc)


@require_GET
@access.policy("authenticated")
def tracks(request: HttpRequest) -> HttpResponse:
    """GET /maps/data/tracks.geojson?bbox=&zoom=&area=&since=&until= Leg-day tracks
    simplified to the zoom, with their effort."""
    try:
        _signed_in(request)
        bounds, zoom = _view(request.GET)
        filters = filters_of(request.GET)
        layer = data.tracks_layer(request.user, filters, bounds, zoom)
        layer["effort"] = data.effort_totals(request.user, filters)
        return JsonResponse(layer)
    except Problem as exc:
        return problem(exc)


def published(request: HttpRequest) -> bool:
    """Whether the request is answered as published data: a visitor not signed in, when the
    agency publishes anything (settings.FIELDKIT_PUBLISH_INDICATORS); else it must sign in."""
    if request.user.is_authenticated:
        return False
    if not settings.FIELDKIT_PUBLISH_INDICATORS:
        raise errors.AUTH_REQUIRED()
    return True


@require_GET
@access.policy("public")
def areas(request: HttpRequest) -> HttpResponse:
    """GET /maps/data/areas.geojson?indicator=CODE|SUBJECT&year= Area outlines with the
    year's value of the indicator for each area the user reads indicators of ("no data" is
    null). SUBJECT "currency" takes each area's own currency. Visitors not signed in: the
    published indicators only, of every area, when any is published."""
    try:
        public = published(request)
        code = request.GET.get("indicator") or "cpue.records.km|vertical:illicit"
        indicator, _, subject = code.partition("|")
        if indicator not in INDICATORS:
            raise errors.MAP_BAD_FILTER(detail=f"no indicator {indicator!r}")
        if public and code not in settings.FIELDKIT_PUBLISH_INDICATORS:
            raise errors.MAP_NOT_PUBLISHED(indicator=code)
        year = request.GET.get("year") or ""
        if not (year.isdigit() and 1900 < int(year) < 2200):
            raise errors.MAP_BAD_FILTER(detail="year must be a year, such as 2024")
        return JsonResponse(data.areas_layer(request.user, indicator, subject, int(year), published=public))
    except Problem as exc:
        return problem(exc)


@require_GET
@access.policy("public")
def context(request: HttpRequest) -> HttpResponse:
    """GET /maps/data/context.geojson?layer=provinces The outlines of a context layer, drawn
    under the areas: for signed-in users, and for visitors when anything is published."""
    try:
        published(request)
        layer = request.GET.get("layer") or "provinces"
        layers = data.context_layers()
        if layer not in layers:
            raise errors.MAP_NO_LAYER(layer=layer, layers=", ".join(layers) or "none loaded")
        return JsonResponse(data.context_layer(layer))
    except Problem as exc:
        return problem(exc)
