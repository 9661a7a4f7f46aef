"""The map pages: the overview of every area, an area's dashboard. Thin views: the pages
fetch their layers and figures from maps.views and the indicators API, which apply the
access policy; these views only decide who may open a page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from accounts import access
from accounts.access import Capability
from accounts.generalisation import Sensitivity
from maps import data
from observations import queries
from observations.models import Category, Taxon, Vertical
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
    config: dict[str, Any] = settings.LEAFLET_CONFIG
    tiles = config["TILES"][0]
    return {
        "basemap": tiles[1],
        "attribution": tiles[2].get("attribution", ""),
        "center": list(config["DEFAULT_CENTER"]),
        "zoom": config["DEFAULT_ZOOM"],
    }


def navigation(user: Any) -> list[tuple[str, str]]:
    """The pages `user`'s roles open, as (title, URL): the home page and every map page
    lead there."""
    if not user.is_authenticated:
        return []
    links = [("Overview map", reverse("maps:overview")), ("Species", reverse("maps:species-index"))]
    if access.can(user, Capability.VIEW_ILLICIT_RECORDS, None):
        links.append(("Illicit activity", reverse("maps:enforcement")))
    if access.can(user, Capability.VIEW_CASES, None):
        links.append(("Cases", "/cases/"))
    if access.area_ids_with(user, Capability.EXPORT) != frozenset():
        links.append(("Exports", reverse("export-pages:jobs")))
    if user.is_staff:
        links.append(("Administration", reverse("admin:index")))
    return links


def site_navigation(request: HttpRequest) -> dict[str, Any]:
    """Context processor (settings.TEMPLATES): `nav` for the site's bar on every page
    (fieldkit/bar.html), worked out only when a page shows it."""
    return {"nav": SimpleLazyObject(lambda: navigation(request.user))}


def published_indicators() -> list[tuple[str, str]]:
    """The indicators a visitor not signed in may colour the overview by
    (settings.FIELDKIT_PUBLISH_INDICATORS), labelled as in the overview's list."""
    labels = dict(OVERVIEW_INDICATORS)
    return [(code, labels.get(code, code)) for code in settings.FIELDKIT_PUBLISH_INDICATORS]


@access.policy("public")
def overview(request: HttpRequest) -> HttpResponse:
    """/maps/: every protected area as a choropleth of a chosen indicator and year. Visitors
    not signed in: the published indicators only, when any is, else the sign-in page."""
    public = not request.user.is_authenticated
    if public and not settings.FIELDKIT_PUBLISH_INDICATORS:
        return redirect_to_login(request.get_full_path())
    return render(
        request,
        "maps/overview.html",
        {
            "areas": areas_visible_to(request.user).only("id", "name").order_by("name"),
            "indicators": published_indicators() if public else OVERVIEW_INDICATORS,
            "years": data.indicator_years(request.user, published=public),
            "map_options": {**map_options(), "public": public, "context_layers": data.context_layers()},
            "public": public,
        },
    )


@access.policy("authenticated")
@login_required
def area(request: HttpRequest, pk: int) -> HttpResponse:
    """/maps/areas/<id>/: an area's dashboard, for whoever reads its indicators or records;
    any other area answers 404."""
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


@access.policy("authenticated")
@login_required
def species_index(request: HttpRequest) -> HttpResponse:
    """/maps/species/: the taxa recorded in the user's areas, most recorded first."""
    counts = (
        queries.observations_visible_to(request.user)
        .filter(species__taxon__isnull=False)
        .order_by()
        .values("species__taxon__slug", "species__taxon__scientific_name", "species__taxon__common_name")
        .annotate(records=Count("pk"))
        .order_by("-records", "species__taxon__scientific_name")
    )
    return render(request, "maps/species_index.html", {"taxa": counts, "map_options": map_options()})


@access.policy("authenticated")
@login_required
def species(request: HttpRequest, slug: str) -> HttpResponse:
    """/maps/species/<slug>/: where and how often a species is recorded, its IUCN status and
    its encounter rate over time; its points generalised for whoever lacks the right."""
    taxon = get_object_or_404(Taxon, slug=slug)
    return render(
        request,
        "maps/species.html",
        {
            "taxon": taxon,
            "sensitive": taxon.sensitivity != Sensitivity.OPEN,
            "records": data.species_records(request.user, taxon),
            "map_options": {
                **map_options(),
                "taxon": taxon.slug,
                "areas": {a.pk: a.name for a in areas_visible_to(request.user).only("id", "name")},
            },
        },
    )


@access.policy("capability:view_illicit_records")
@login_required
def enforcement(request: HttpRequest) -> HttpResponse:
    """/maps/enforcement/: illicit-activity records and hotspots of the user's areas, for law
    enforcement and managers; cases open from the records (enforcement app)."""
    if not access.can(request.user, Capability.VIEW_ILLICIT_RECORDS, None):
        raise Http404
    return render(
        request,
        "maps/enforcement.html",
        {
            "hotspots": data.illicit_hotspots(request.user),
            "categories": Category.objects.filter(vertical=Vertical.ILLICIT)
            .order_by("slug")
            .values_list("slug", "label_en"),
            "map_options": map_options(),
            "reads_cases": access.can(request.user, Capability.VIEW_CASES, None),
        },
    )
