"""The map data the pages load, computed in the database: observation clusters and points,
patrol tracks simplified to the zoom, area outlines. Every function takes the user and reads
only what the access policy lets that user see (observations.queries, accounts.access).

Sensitive points are generalised before they leave the database: the clusters are counted
on the generalised coordinates (the centre of the record's grid cell, as
accounts.generalisation computes it in Python), so neither a cluster's position nor its
count can place a sensitive record more finely than its cell; withheld records are left out
of the map altogether for whoever may not see them exactly. Points at street zoom come one
by one through observations.api.feature, the same code as the API, audited the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.gis.geos import Polygon
from django.db.models import (
    Avg,
    Case,
    Count,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Floor

from accounts import access
from accounts.access import Capability
from accounts.generalisation import CELL_DEGREES, STRICTNESS, Sensitivity
from maps.geo import POINTS_ZOOM, Bounds, cluster_cell, simplify_tolerance
from observations import queries, sensitivity
from observations.api import feature
from observations.models import Observation, PatrolLegDay
from protected_areas.models import ProtectedArea

# At most this many single points in one answer; beyond it the answer is clusters.
MAX_POINTS = 2000
# Generalised points lie at most half the coarsest cell from the exact one: records this far
# outside the box can still be drawn inside it.
_MARGIN = float(max(c for c in CELL_DEGREES.values() if c)) / 2


class STX(Func):
    function = "ST_X"
    output_field = FloatField()


class STY(Func):
    function = "ST_Y"
    output_field = FloatField()


class Simplify(Func):
    """ST_Simplify (Douglas–Peucker), on PostGIS and SpatiaLite alike."""

    function = "ST_Simplify"
    output_field = GeometryField(srid=4326)


@dataclass(frozen=True)
class Filters:
    """The one filter of the dashboard: period, area, vertical, category."""

    area: int | None = None
    since: date | None = None
    until: date | None = None
    vertical: str | None = None
    category: str | None = None

    def observations(self, rows: QuerySet[Observation]) -> QuerySet[Observation]:
        if self.area is not None:
            rows = rows.filter(places__area_id=self.area, places__zone=None)
        if self.since is not None:
            rows = rows.filter(day__gte=self.since)
        if self.until is not None:
            rows = rows.filter(day__lte=self.until)
        if self.vertical:
            rows = rows.filter(vertical=self.vertical)
        if self.category:
            rows = rows.filter(category_id=self.category)
        return rows

    def leg_days(self, rows: QuerySet[PatrolLegDay]) -> QuerySet[PatrolLegDay]:
        if self.area is not None:
            rows = rows.filter(segments__area_id=self.area, segments__zone=None)
        if self.since is not None:
            rows = rows.filter(day__gte=self.since)
        if self.until is not None:
            rows = rows.filter(day__lte=self.until)
        return rows


def _exact_where(view: sensitivity.UserView) -> Q:
    """Rows whose exact point this user may see: open records, and any record of an area
    where the user holds VIEW_EXACT_SENSITIVE_LOCATIONS."""
    areas = view.by_capability[Capability.VIEW_EXACT_SENSITIVE_LOCATIONS]
    if areas is None:
        return Q(pk__isnull=False)
    return Q(sensitivity_rank=0) | Q(area_id__in=sorted(areas))


def _generalised(coordinate: Func, exact: Q) -> Case:
    """The coordinate as the user may see it: exact, or the centre of the record's cell."""
    whens = [When(exact, then=coordinate)]
    for level, cell in CELL_DEGREES.items():
        if cell:
            size = float(cell)
            whens.append(
                When(
                    sensitivity_rank=STRICTNESS[level],
                    then=Floor(coordinate / Value(size)) * Value(size) + Value(size / 2),
                )
            )
    return Case(*whens, default=Value(None), output_field=FloatField())


def shown_observations(user: Any, filters: Filters, bounds: Bounds) -> QuerySet[Observation]:
    """The user's observations with their coordinates as shown (`gx`, `gy`), inside
    `bounds`, withheld ones left out."""
    view = sensitivity.UserView.of(user)
    exact = _exact_where(view)
    rows = filters.observations(queries.observations_visible_to(user)).filter(location__isnull=False)
    box = Polygon.from_bbox(
        (bounds.west - _MARGIN, bounds.south - _MARGIN, bounds.east + _MARGIN, bounds.north + _MARGIN)
    )
    rows = sensitivity.with_levels(rows.filter(location__intersects=box))
    rows = rows.exclude(Q(sensitivity_rank=STRICTNESS[Sensitivity.EXTREME]) & ~exact)
    rows = rows.annotate(gx=_generalised(STX("location"), exact), gy=_generalised(STY("location"), exact))
    return rows.filter(gx__gte=bounds.west, gx__lte=bounds.east, gy__gte=bounds.south, gy__lte=bounds.north)


def observation_clusters(user: Any, filters: Filters, bounds: Bounds, zoom: int) -> list[dict[str, Any]]:
    """Observations counted per vertical on the zoom's cluster grid: one GeoJSON feature per
    cell and vertical, at the mean of the (generalised) points in it."""
    cell = cluster_cell(zoom)
    rows = (
        shown_observations(user, filters, bounds)
        .annotate(bx=Floor(F("gx") / Value(cell)), by=Floor(F("gy") / Value(cell)))
        .order_by()
        .values("bx", "by", "vertical")
        .annotate(n=Count("pk"), x=Avg("gx"), y=Avg("gy"))
        .order_by("bx", "by", "vertical")
    )
    return [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(row["x"], 6), round(row["y"], 6)]},
            "properties": {"cluster": True, "count": row["n"], "vertical": row["vertical"]},
        }
        for row in rows
    ]


def observation_points(request: Any, filters: Filters, bounds: Bounds) -> list[dict[str, Any]] | None:
    """Single observations, each as the API shows it (generalised, personal fields only
    where open, audited); None when there are more than MAX_POINTS."""
    ids = list(
        shown_observations(request.user, filters, bounds).values_list("pk", flat=True)[: MAX_POINTS + 1]
    )
    if len(ids) > MAX_POINTS:
        return None
    rows = sensitivity.with_levels(
        Observation.objects.filter(pk__in=ids)
        .select_related("species__taxon", "illicit")
        .prefetch_related("illicit__actions", "illicit__seized_items")
        .order_by("time", "pk")
    )
    view = sensitivity.UserView.of(request.user)
    features, seen = [], []
    for obs in rows:
        data, disclosed = feature(obs, view)
        data["properties"]["cluster"] = False
        features.append(data)
        seen.append((obs, disclosed, obs.area_id))
    access.record_accesses(request, seen)
    return features


def observations_layer(request: Any, filters: Filters, bounds: Bounds, zoom: int) -> dict[str, Any]:
    """What the map draws for observations at `zoom`: points when zoomed in and few enough,
    else clusters."""
    points = observation_points(request, filters, bounds) if zoom >= POINTS_ZOOM else None
    features = points if points is not None else observation_clusters(request.user, filters, bounds, zoom)
    return {"type": "FeatureCollection", "features": features, "clustered": points is None}


def tracks_layer(user: Any, filters: Filters, bounds: Bounds, zoom: int) -> dict[str, Any]:
    """Leg-day tracks in `bounds`, simplified to the zoom, with the effort the map colours
    them by (km, patrol hours, person-days)."""
    rows = access.visible(
        user, Capability.VIEW_RECORDS, PatrolLegDay.objects.all(), area_field="patrol__area"
    )
    rows = filters.leg_days(rows).filter(track__isnull=False)
    rows = rows.filter(
        track__intersects=Polygon.from_bbox((bounds.west, bounds.south, bounds.east, bounds.north))
    )
    tolerance = simplify_tolerance(zoom)
    rows = rows.annotate(shape=AsGeoJSON(Simplify("track", Value(tolerance)), precision=6)).order_by(
        "day", "pk"
    )
    features = [
        {
            "type": "Feature",
            "id": row["pk"],
            "geometry": json.loads(row["shape"]) if row["shape"] else None,
            "properties": {
                "day": row["day"].isoformat(),
                "patrol": row["patrol_id"],
                "distance_km": round(row["distance_km"], 3),
                "patrol_hours": round(row["patrol_hours"], 2),
                "person_days": round(row["person_days"], 2),
            },
        }
        for row in rows.values(
            "pk", "shape", "day", "patrol_id", "distance_km", "patrol_hours", "person_days"
        )
    ]
    return {"type": "FeatureCollection", "features": features}


def areas_layer(area_ids: Iterable[int] | None = None) -> dict[str, Any]:
    """Area outlines (the simplified boundary kept with each area) with name, code and
    size: the base of the overview map's choropleth."""
    rows = ProtectedArea.objects.all()
    if area_ids is not None:
        rows = rows.filter(pk__in=list(area_ids))
    rows = rows.annotate(shape=AsGeoJSON("boundary_simplified", precision=5)).order_by("name")
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": row["pk"],
                "geometry": json.loads(row["shape"]) if row["shape"] else None,
                "properties": {"name": row["name"], "area_km2": row["area_km2"]},
            }
            for row in rows.values("pk", "shape", "name", "area_km2")
        ],
    }


def effort_totals(user: Any, filters: Filters) -> dict[str, float]:
    """Total effort behind the tracks layer, summed in the database (the legend's caption)."""
    rows = access.visible(
        user, Capability.VIEW_RECORDS, PatrolLegDay.objects.all(), area_field="patrol__area"
    )
    totals = (
        filters.leg_days(rows)
        .order_by()
        .aggregate(km=Sum("distance_km"), hours=Sum("patrol_hours"), person_days=Sum("person_days"))
    )
    return {key: round(value or 0.0, 2) for key, value in totals.items()}
