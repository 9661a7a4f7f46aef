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
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import AsGeoJSON, Centroid, SnapToGrid, Transform
from django.contrib.gis.geos import Polygon
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    Func,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import ExtractYear

from accounts import access
from accounts.access import Capability
from accounts.generalisation import CELL_DEGREES, STRICTNESS, Sensitivity
from indicators.models import NO_CELL, NO_ZONE, GridCell, IndicatorRow, PeriodKind
from maps import clusters
from maps.geo import (
    BLOCK_CELLS,
    POINTS_ZOOM,
    Bounds,
    block_bounds,
    blocks_covering,
    cluster_cell,
    simplify_tolerance,
)
from maps.models import ContextBoundary
from maps.sql import FENCE, STX, STY, exact_sql, generalised_sql, query
from observations import queries, sensitivity
from observations.api import feature
from observations.models import Observation, PatrolLegDay
from protected_areas.queries import areas_visible_to

# At most this many single points in one answer; beyond it the answer is clusters.
MAX_POINTS = 2000
# Generalised points lie at most half the coarsest cell from the exact one: records this far
# outside the box can still be drawn inside it.
_MARGIN = float(max(c for c in CELL_DEGREES.values() if c)) / 2


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
    taxon: str | None = None

    def key(self) -> str:
        return f"{self.area}:{self.since}:{self.until}:{self.vertical}:{self.category}:{self.taxon}"

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
        if self.taxon:
            rows = rows.filter(species__taxon__slug=self.taxon)
        return rows

    def leg_days(self, rows: QuerySet[PatrolLegDay]) -> QuerySet[PatrolLegDay]:
        if self.area is not None:
            rows = rows.filter(segments__area_id=self.area, segments__zone=None)
        if self.since is not None:
            rows = rows.filter(day__gte=self.since)
        if self.until is not None:
            rows = rows.filter(day__lte=self.until)
        return rows


def _shown_sql(user: Any, filters: Filters, bounds: Bounds) -> tuple[str, list[Any]]:
    """SQL of the user's observations in `bounds` as they may be shown: columns id,
    vertical, gx, gy (the generalised coordinates); withheld ones left out. The level of
    each record is computed once (a derived table), not once per use."""
    view = sensitivity.UserView.of(user)
    exact = exact_sql(view)
    box = Polygon.from_bbox(
        (bounds.west - _MARGIN, bounds.south - _MARGIN, bounds.east + _MARGIN, bounds.north + _MARGIN)
    )
    rows = filters.observations(queries.observations_visible_to(user))
    rows = rows.filter(location__isnull=False, location__intersects=box)
    shown: Any = (
        sensitivity.with_levels(rows)
        .annotate(oid=F("id"), aid=F("area_id"), vert=F("vertical"), lon=STX("location"), lat=STY("location"))
        .order_by()
        .values("oid", "vert", "aid", "sensitivity_rank", "lon", "lat")
    )
    inner, params = shown.query.sql_with_params()
    withheld = STRICTNESS[Sensitivity.EXTREME]
    sql = (
        f"SELECT s.id, s.vertical, s.gx, s.gy FROM ("  # noqa: S608 (no user text: numbers)
        f"SELECT t.oid AS id, t.vert AS vertical, {generalised_sql('lon', exact)} AS gx, "
        f"{generalised_sql('lat', exact)} AS gy FROM ({inner}{FENCE[connection.vendor]}) t "
        f"WHERE NOT (t.sensitivity_rank = {withheld} AND NOT {exact})) s "
        "WHERE s.gx >= %s AND s.gx <= %s AND s.gy >= %s AND s.gy <= %s"
    )
    return sql, [*params, bounds.west, bounds.east, bounds.south, bounds.north]


def shown_rows(user: Any, filters: Filters, bounds: Bounds) -> list[tuple[int, str, float, float]]:
    """(id, vertical, longitude, latitude) of each observation as the user may see it."""
    sql, params = _shown_sql(user, filters, bounds)
    return query(sql, params)  # type: ignore[return-value]


# Cached cluster blocks live this long at most; a new submission or a new sensitivity rule
# makes new keys at once (clusters.Versions).
CLUSTER_CACHE_SECONDS = 600


def _cluster_rows(
    user: Any,
    filters: Filters,
    bounds: Bounds,
    zoom: int,
    scopes: clusters.Scopes,
    versions: clusters.Versions,
) -> list[tuple[Any, ...]]:
    """The clusters from the precomputed counts (maps.clusters) where they can answer, else
    counted live on the generalised points."""
    counted = clusters.rows(scopes, filters, bounds, zoom, versions)
    if counted is not None:
        return counted
    cell = cluster_cell(zoom)
    shown, params = _shown_sql(user, filters, bounds)
    sql = (
        f"SELECT FLOOR(c.gx / {cell!r}) AS bx, FLOOR(c.gy / {cell!r}) AS by_, c.vertical, "  # noqa: S608
        f"COUNT(*), AVG(c.gx), AVG(c.gy) FROM ({shown}) c GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
    return query(sql, params)


def observation_clusters(user: Any, filters: Filters, bounds: Bounds, zoom: int) -> list[dict[str, Any]]:
    """Observations counted per vertical on the zoom's cluster grid: one GeoJSON feature per
    cell and vertical, at the mean of the (generalised) points in it. Computed per block of
    cells, the missing blocks in one query, and cached per block for users who see alike."""
    blocks = blocks_covering(bounds, zoom)
    scopes, versions = clusters.Scopes.of(user), clusters.Versions.now()
    prefix = f"maps:clusters:{versions.key()}:{scopes.key()}:{filters.key()}:{zoom}"
    keys = {block: f"{prefix}:{block[0]}:{block[1]}" for block in blocks}
    found = cache.get_many(keys.values())
    missing = [block for block in blocks if keys[block] not in found]
    if missing:
        fresh: dict[tuple[int, int], list[dict[str, Any]]] = {block: [] for block in missing}
        wanted = set(missing)
        for bx, by, vertical, n, x, y in _cluster_rows(
            user, filters, block_bounds(zoom, missing), zoom, scopes, versions
        ):
            block = (int(bx) // BLOCK_CELLS, int(by) // BLOCK_CELLS)
            if block in wanted:
                fresh[block].append(
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]},
                        "properties": {"cluster": True, "count": n, "vertical": vertical},
                    }
                )
        cache.set_many({keys[block]: features for block, features in fresh.items()}, CLUSTER_CACHE_SECONDS)
        found.update({keys[block]: features for block, features in fresh.items()})
    return [feature for block in blocks for feature in found[keys[block]]]


def observation_points(request: Any, filters: Filters, bounds: Bounds) -> list[dict[str, Any]] | None:
    """Single observations, each as the API shows it (generalised, personal fields only
    where open, audited); None when there are more than MAX_POINTS."""
    shown, params = _shown_sql(request.user, filters, bounds)
    ids = [row[0] for row in query(f"SELECT p.id FROM ({shown}) p LIMIT {MAX_POINTS + 1}", params)]  # noqa: S608
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
    # Too many points at street zoom: the clusters of the finest zoom counted in advance.
    if points is None:
        features = observation_clusters(request.user, filters, bounds, min(zoom, clusters.CLUSTER_MAX_ZOOM))
    else:
        features = points
    return {"type": "FeatureCollection", "features": features, "clustered": points is None}


def _leg_days(user: Any, filters: Filters) -> QuerySet[PatrolLegDay]:
    """The leg-days of the patrols of the user's areas that the filter keeps."""
    rows = access.visible(
        user, Capability.VIEW_RECORDS, PatrolLegDay.objects.all(), area_field="patrol__area"
    )
    return filters.leg_days(rows)


# A track passes where its rangers recorded what they saw, sensitive species included: for
# whoever may not see those exactly, tracks are drawn on a grid this fine (MEDIUM's cell,
# about 1 km), never more finely, at any zoom.
TRACK_GRID_DEGREES = float(CELL_DEGREES[Sensitivity.MEDIUM] or 0)


def _track_shape(user: Any, zoom: int) -> Any:
    """The track as the user may see it, simplified to the zoom: exact where the user sees
    exact locations in the patrol's area, else snapped to TRACK_GRID_DEGREES first."""
    tolerance = simplify_tolerance(zoom)
    exact = Simplify("track", Value(tolerance))
    gridded = Simplify(SnapToGrid("track", TRACK_GRID_DEGREES), Value(max(tolerance, TRACK_GRID_DEGREES)))
    areas = sensitivity.UserView.of(user).by_capability[Capability.VIEW_EXACT_SENSITIVE_LOCATIONS]
    if areas is None:
        return exact
    if not areas:
        return gridded
    return Case(
        When(patrol__area_id__in=sorted(areas), then=exact),
        default=gridded,
        output_field=GeometryField(srid=4326),
    )


def tracks_layer(user: Any, filters: Filters, bounds: Bounds, zoom: int) -> dict[str, Any]:
    """Leg-day tracks in `bounds`, simplified to the zoom (on a 1 km grid for whoever may
    not see sensitive records exactly), with the effort the map colours them by (km,
    patrol hours, person-days)."""
    rows = _leg_days(user, filters).filter(track__isnull=False)
    rows = rows.filter(
        track__intersects=Polygon.from_bbox((bounds.west, bounds.south, bounds.east, bounds.north))
    )
    rows = rows.annotate(shape=AsGeoJSON(_track_shape(user, zoom), precision=6)).order_by("day", "pk")
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


def _indicator_values(user: Any, published: bool) -> QuerySet[IndicatorRow]:
    """The indicator values the user reads; every area's when `published` (the caller has
    checked that the indicator is published: settings.FIELDKIT_PUBLISH_INDICATORS)."""
    if published:
        return IndicatorRow.objects.all()
    return access.visible(user, Capability.VIEW_INDICATORS, IndicatorRow.objects.all())


def areas_layer(
    user: Any, indicator: str, subject: str, year: int, published: bool = False
) -> dict[str, Any]:
    """Area outlines (the simplified boundary kept with each area) with the year's value of
    `indicator` for the area as a whole: `value` None is "no data" (no row, or a row with
    no value, such as a rate without effort), never 0; `shared` False where the user may
    not read the area's indicators (every area's is shared when `published`)."""
    values_of = _indicator_values(user, published)
    if subject == "currency":
        # Each area in its own currency: "currency:PGK", never a category of it.
        values_of = values_of.filter(subject__startswith="currency:").exclude(
            subject__regex=r"^currency:[^:]*:"
        )
    else:
        values_of = values_of.filter(subject=subject)
    areas = areas_visible_to(user).annotate(shape=AsGeoJSON("boundary_simplified", precision=5))
    readable = None if published else access.area_ids_with(user, Capability.VIEW_INDICATORS)
    values = {
        row["area_id"]: row
        for row in values_of.filter(
            indicator=indicator,
            zone_id=NO_ZONE,
            cell_id=NO_CELL,
            period_kind=PeriodKind.YEAR,
            period_start=date(year, 1, 1),
        ).values("area_id", "value", "lower", "upper", "effort", "subject")
    }
    features = []
    for row in areas.order_by("name").values("pk", "shape", "name", "area_km2"):
        found: dict[str, Any] = dict(values.get(row["pk"], {}))
        features.append(
            {
                "type": "Feature",
                "id": row["pk"],
                "geometry": json.loads(row["shape"]) if row["shape"] else None,
                "properties": {
                    "name": row["name"],
                    "area_km2": row["area_km2"],
                    "shared": readable is None or row["pk"] in readable,
                    "value": found.get("value"),
                    "lower": found.get("lower"),
                    "upper": found.get("upper"),
                    "effort": found.get("effort"),
                    "subject": found.get("subject"),
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "indicator": indicator,
        "subject": subject,
        "year": year,
    }


def indicator_years(user: Any, published: bool = False) -> list[int]:
    """The years with yearly indicator values the user may read (every area's when
    `published`), newest first."""
    starts = (
        _indicator_values(user, published)
        .filter(period_kind=PeriodKind.YEAR, zone_id=NO_ZONE, cell_id=NO_CELL)
        .order_by("-period_start")
        .values_list("period_start", flat=True)
        .distinct()
    )
    return [start.year for start in starts]


def effort_totals(user: Any, filters: Filters) -> dict[str, float]:
    """Total effort behind the tracks layer, summed in the database (the legend's caption)."""
    totals = (
        _leg_days(user, filters)
        .order_by()
        .aggregate(km=Sum("distance_km"), hours=Sum("patrol_hours"), person_days=Sum("person_days"))
    )
    return {key: round(value or 0.0, 2) for key, value in totals.items()}


def species_records(user: Any, taxon: Any) -> list[dict[str, Any]]:
    """Records of `taxon` per area and year among what the user may see, counted in the
    database (records and summed individuals)."""
    rows = (
        queries.observations_visible_to(user)
        .filter(species__taxon=taxon, day__isnull=False)
        .annotate(year=ExtractYear("day"))
        .order_by()
        .values("area__name", "year")
        .annotate(records=Count("pk"), individuals=Sum("species__individual_count"))
        .order_by("area__name", "year")
    )
    return list(rows)


def illicit_hotspots(user: Any, limit: int = 10) -> list[dict[str, Any]]:
    """The grid cells with most illicit-activity records in the latest year with any, among
    the areas where the user reads indicators: cell, area, count and the cell's centre."""
    values = access.visible(user, Capability.VIEW_INDICATORS, IndicatorRow.objects.all()).filter(
        indicator="cell.records", subject="vertical:illicit", period_kind=PeriodKind.YEAR
    )
    latest = values.order_by("-period_start").values_list("period_start", flat=True).first()
    if latest is None:
        return []
    top = list(
        values.filter(period_start=latest, value__gt=0)
        .order_by("-value", "cell_id")
        .values("cell_id", "area_id", "area__name", "value")[:limit]
    )
    centres = {
        cell.pk: cell.centre
        for cell in GridCell.objects.filter(pk__in=[row["cell_id"] for row in top]).annotate(
            centre=Transform(Centroid("geom"), 4326)
        )
    }
    return [
        {
            "cell": row["cell_id"],
            "area": row["area__name"],
            "records": row["value"],
            "year": latest.year,
            "lon": round(centres[row["cell_id"]].x, 5),
            "lat": round(centres[row["cell_id"]].y, 5),
        }
        for row in top
        if row["cell_id"] in centres
    ]


def context_layers() -> list[str]:
    return list(ContextBoundary.objects.order_by("layer").values_list("layer", flat=True).distinct())


def context_layer(layer: str) -> dict[str, Any]:
    """The simplified outlines of a context layer (provinces), with their name and code: the
    same for everyone, reference data like the areas' outlines."""
    rows = (
        ContextBoundary.objects.filter(layer=layer)
        .annotate(shape=AsGeoJSON("boundary_simplified", precision=4))
        .order_by("name")
        .values("pk", "shape", "name", "code", "source")
    )
    features = [
        {
            "type": "Feature",
            "id": row["pk"],
            "geometry": json.loads(row["shape"]) if row["shape"] else None,
            "properties": {"name": row["name"], "code": row["code"]},
        }
        for row in rows
    ]
    return {
        "type": "FeatureCollection",
        "layer": layer,
        "source": rows[0]["source"] if features else "",
        "features": features,
    }
