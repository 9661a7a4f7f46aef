"""The map pages: the overview of every area, an area's dashboard. Thin views: the pages
fetch their layers and figures from maps.views and the indicators API, which apply the
access policy; these views only decide who may open a page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from accounts import access
from accounts.access import Capability
from maps import data
from observations.models import Category, Vertical
from protected_areas.models import Zone
from protected_areas.queries import areas_visible_to

# The indicators the overview map can colour areas by, in the order of its list.
OVERVIEW_INDICATORS = [
    ("cpue.records.km|vertical:illicit", "Illicit activity: records per 10 km"),
    ("cpue.records.km|vertical:biodiversity", "Wildlife: records per 10 km"),
    ("effort.km|", "Patrol effort: km"),
    ("effort.person_days|", "Patrol effort: person-days"),
    ("count.records|vertical:illicit", "Illicit-activity records"),
    ("bio.richness|", "Species richness"),
    ("mett.percent|", "METT score (% of maximum)"),
    ("finance.spend_per_km2|currency", "Spending per km²"),
    ("finance.gap_basic|currency", "Funding gap, basic need"),
]


def map_options() -> dict[str, Any]:
    """What every map page's script needs: the basemap (used when reachable) and the
    default view."""
    tiles = settings.LEAFLET_CONFIG["TILES"][0]
    return {
        "basemap": tiles[1],
        "attribution": tiles[2].get("attribution", ""),
        "center": list(settings.LEAFLET_CONFIG["DEFAULT_CENTER"]),
        "zoom": settings.LEAFLET_CONFIG["DEFAULT_ZOOM"],
    }


@access.policy("authenticated")
def overview(request: HttpRequest) -> HttpResponse:
    """/maps/: every protected area as a choropleth of a chosen indicator and year."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    years = data.indicator_years(request.user)
    return render(
        request,
        "maps/overview.html",
        {
            "areas": areas_visible_to(request.user).only("id", "name").order_by("name"),
            "indicators": OVERVIEW_INDICATORS,
            "years": years,
            "map_options": map_options(),
        },
    )


@access.policy("authenticated")
def area(request: HttpRequest, pk: int) -> HttpResponse:
    """/maps/areas/<id>/: an area's dashboard, for whoever reads its indicators or records;
    any other area answers 404."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    found = get_object_or_404(areas_visible_to(request.user).defer("boundary"), pk=pk)
    if not any(
        access.can(request.user, cap, found) for cap in (Capability.VIEW_INDICATORS, Capability.VIEW_RECORDS)
    ):
        raise Http404
    return render(
        request,
        "maps/area.html",
        {
            "area": found,
            "zones": Zone.objects.filter(area=found).only("id", "name").order_by("name"),
            "verticals": Vertical.choices,
            "categories": Category.objects.exclude(vertical="")
            .order_by("slug")
            .values_list("slug", "label_en"),
            "years": data.indicator_years(request.user),
            "map_options": {**map_options(), "area": found.pk},
            "reads_indicators": access.can(request.user, Capability.VIEW_INDICATORS, found),
        },
    )
