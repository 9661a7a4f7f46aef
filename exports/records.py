"""Exports of field records (observations) that stream and hold to the access policy.

Rows are read from the database in chunks (`iterator(chunk_size=CHUNK)`), never all at
once, and each goes through the same policy as the API: the records the user may read
(observations.queries.observations_visible_to) in the areas where it may export
(Capability.EXPORT), the point and the Darwin Core texts of observations.sensitivity, the
personal fields only where they are open to the user (observations.api.feature builds the
row for both). Every chunk that carries an exact sensitive point or a personal field is
recorded in the audit log (action "export") before it leaves the server.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any

from django.db.models import QuerySet

from accounts import access
from accounts.access import Capability
from accounts.models import AccessAction
from fieldkit import errors
from observations import queries, sensitivity
from observations.api import OBSERVER, SUSPECT_NAMES, feature
from observations.models import Category, Observation, Vertical

CHUNK = 2000

COLUMNS = [
    "record_uuid",
    "time",
    "day",
    "area",
    "zone",
    "vertical",
    "category",
    "count",
    "taxon",
    "individualCount",
    "latitude",
    "longitude",
    "coordinateUncertaintyInMeters",
    "dataGeneralizations",
    "informationWithheld",
]
# The personal columns, by the field of accounts.access.PERSONAL_FIELDS that opens them.
PERSONAL_COLUMNS = {"observer": OBSERVER, "suspect_names": SUSPECT_NAMES}


@dataclass(frozen=True)
class Filters:
    area: int | None = None
    zone: int | None = None
    since: date | None = None  # on the local day of the record, inclusive
    until: date | None = None
    vertical: str | None = None
    category: str | None = None  # the category and its subtree


def _id(params: Any, name: str) -> int | None:
    text = params.get(name) or None
    if text is None:
        return None
    if not text.isdigit():
        raise errors.EXPORT_BAD_FILTER(detail=f"{name} must be an id")
    return int(text)


def _day(params: Any, name: str) -> date | None:
    text = params.get(name) or None
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise errors.EXPORT_BAD_FILTER(detail=f"{name} must be a date (YYYY-MM-DD)") from exc


def filters_of(params: Any) -> Filters:
    """The filters of a query string: area, zone, since, until, vertical, category."""
    vertical = params.get("vertical") or None
    if vertical is not None and vertical not in Vertical.values:
        raise errors.EXPORT_BAD_FILTER(detail=f"vertical must be one of {', '.join(Vertical.values)}")
    since, until = _day(params, "since"), _day(params, "until")
    if since and until and since > until:
        raise errors.EXPORT_BAD_FILTER(detail="since must not be after until")
    category = params.get("category") or None
    if category is not None and not Category.objects.filter(slug=category).exists():
        raise errors.EXPORT_BAD_FILTER(detail=f"no category {category!r}")
    return Filters(_id(params, "area"), _id(params, "zone"), since, until, vertical, category)


def observations_for(user: Any, filters: Filters) -> QuerySet[Observation]:
    """The observations `user` may export, filtered, in a stable order."""
    rows = queries.observations_visible_to(user)
    exportable = access.area_ids_with(user, Capability.EXPORT)
    if exportable is not None:
        rows = rows.filter(area_id__in=exportable)
    if filters.area is not None:
        rows = rows.filter(area_id=filters.area)
    if filters.zone is not None:
        rows = rows.filter(zone_id=filters.zone)
    if filters.since is not None:
        rows = rows.filter(day__gte=filters.since)
    if filters.until is not None:
        rows = rows.filter(day__lte=filters.until)
    if filters.vertical is not None:
        rows = rows.filter(vertical=filters.vertical)
    if filters.category is not None:
        rows = rows.filter(Category.subtree_q(filters.category, "category__slug"))
    return sensitivity.with_levels(
        rows.select_related("species__taxon", "illicit")
        .prefetch_related("illicit__actions", "illicit__seized_items")
        .order_by("time", "pk")
    )


def personal_columns(user: Any) -> list[str]:
    """The personal columns the user may read in at least one area."""
    view = sensitivity.UserView.of(user)
    return [
        column
        for column, field in PERSONAL_COLUMNS.items()
        if view.by_capability[access.PERSONAL_FIELDS[field]] != frozenset()
    ]


def _row(obs: Observation, data: dict[str, Any]) -> dict[str, Any]:
    properties = data["properties"]
    coordinates = data["geometry"]["coordinates"] if data["geometry"] else [None, None]
    return {
        "record_uuid": str(obs.record_uuid),
        "time": properties["time"],
        "day": obs.day.isoformat() if obs.day else None,
        "area": properties["area"],
        "zone": properties["zone"],
        "vertical": properties["vertical"],
        "category": properties["category"],
        "count": properties["count"],
        "taxon": properties.get("taxon"),
        "individualCount": properties.get("individualCount"),
        "latitude": coordinates[1],
        "longitude": coordinates[0],
        "coordinateUncertaintyInMeters": properties["coordinateUncertaintyInMeters"],
        "dataGeneralizations": properties["dataGeneralizations"],
        "informationWithheld": properties["informationWithheld"],
    }


def rows(request: Any, filters: Filters) -> Iterator[list[tuple[dict[str, Any], list[float | None] | None]]]:
    """The rows the user may export, chunk by chunk: (columns, [lon, lat] or None). Each
    chunk's disclosures are recorded (AccessAction.EXPORT) before the chunk is given out."""
    user = request.user
    view = sensitivity.UserView.of(user)
    records = observations_for(user, filters).iterator(chunk_size=CHUNK)
    while chunk := list(islice(records, CHUNK)):
        out, seen = [], []
        for obs in chunk:
            data, disclosed = feature(obs, view)
            if filters.zone is not None and data["properties"]["zone"] is None:
                continue  # the zone of a generalised record is withheld: not claimed either
            row = _row(obs, data)
            if view.reads(OBSERVER, obs.area_id):
                row["observer"] = data["properties"].get("observer", "")
            illicit = data["properties"].get("illicit")
            if illicit is not None and view.reads(SUSPECT_NAMES, obs.area_id):
                row["suspect_names"] = illicit.get("suspect_names", "")
            out.append((row, data["geometry"]["coordinates"] if data["geometry"] else None))
            seen.append((obs, disclosed, obs.area_id))
        access.record_accesses(request, seen, action=AccessAction.EXPORT)
        yield out


def _csv(columns: list[str], rows: list[dict[str, Any]], header: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def csv_lines(request: Any, filters: Filters) -> Iterator[str]:
    """The export as CSV: the header, then the lines of each chunk of records."""
    columns = COLUMNS + personal_columns(request.user)
    yield _csv(columns, [], header=True)
    for chunk in rows(request, filters):
        yield _csv(columns, [row for row, _ in chunk])


def geojson_chunks(request: Any, filters: Filters) -> Iterator[str]:
    """The export as one GeoJSON FeatureCollection, written chunk by chunk."""
    yield '{"type": "FeatureCollection", "features": ['
    first = True
    for chunk in rows(request, filters):
        parts = []
        for row, coordinates in chunk:
            geometry = {"type": "Point", "coordinates": coordinates} if coordinates else None
            properties = {k: v for k, v in row.items() if k not in ("latitude", "longitude")}
            item = {
                "type": "Feature",
                "id": row["record_uuid"],
                "geometry": geometry,
                "properties": properties,
            }
            parts.append(("" if first else ",\n") + json.dumps(item))
            first = False
        yield "".join(parts)
    yield "]}\n"


# GeoPackage columns that are numbers (nullable); the others are text.
_INTEGERS = ("area", "zone", "individualCount")
_FLOATS = ("count", "coordinateUncertaintyInMeters")


def _frame(columns: list[str], chunk: list[tuple[dict[str, Any], list[float | None] | None]]) -> Any:
    import geopandas
    import pandas
    from shapely.geometry import Point

    table = {}
    for column in columns:
        if column in ("latitude", "longitude"):
            continue
        values = [row.get(column) for row, _ in chunk]
        if column in _INTEGERS:
            table[column] = pandas.array(values, dtype="Int64")
        elif column in _FLOATS:
            table[column] = pandas.array(values, dtype="Float64")
        else:
            table[column] = pandas.array([None if v is None else str(v) for v in values], dtype="object")
    geometry = [Point(coordinates) if coordinates else None for _, coordinates in chunk]
    return geopandas.GeoDataFrame(table, geometry=geometry, crs="EPSG:4326")


def write_geopackage(request: Any, filters: Filters, path: str) -> int:
    """The export as a GeoPackage at `path` (layer `observations`), written chunk by chunk
    (pyogrio, append): memory holds one chunk at a time. Returns the number of rows."""
    import pyogrio

    columns = COLUMNS + personal_columns(request.user)
    written = 0
    for chunk in rows(request, filters):
        pyogrio.write_dataframe(
            _frame(columns, chunk), path, layer="observations", driver="GPKG", append=written > 0
        )
        written += len(chunk)
    if written == 0:
        pyogrio.write_dataframe(_frame(columns, []), path, layer="observations", driver="GPKG")
    return written
