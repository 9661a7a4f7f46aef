"""Import protected-area boundaries from any file GDAL reads (Shapefile, zipped Shapefile,
GeoPackage, GeoJSON, KML…) through geopandas/pyogrio.

Reading and cleaning (`read_features`) is pure: it returns clean features and the reasons
for every rejected one. Writing (`import_areas`) upserts by (source, source_id) in one
transaction, so a file is imported whole or not at all, and a re-import of the same file
changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import shapely
from django.db import transaction
from shapely.geometry.base import BaseGeometry

from fieldkit import errors
from protected_areas import geometry
from protected_areas.models import IUCNCategory, Marine, ProtectedArea

# Model field → source field (or alternatives), per recognised schema. Lookups ignore case.
CLASSIC_WDPA: dict[str, str | tuple[str, ...]] = {
    "wdpa_id": "WDPAID",
    "wdpa_pid": "WDPA_PID",
    "name": "NAME",
    "orig_name": "ORIG_NAME",
    "designation": "DESIG",
    "designation_eng": "DESIG_ENG",
    "designation_type": "DESIG_TYPE",
    "iucn_category": "IUCN_CAT",
    "status": "STATUS",
    "status_year": "STATUS_YR",
    "governance": "GOV_TYPE",
    "ownership": "OWN_TYPE",
    "management_authority": "MANG_AUTH",
    "management_plan": "MANG_PLAN",
    "iso3": "ISO3",
    # Shapefiles cut field names at 10 characters: WDPA's own shapefiles say PARENT_ISO.
    "parent_iso3": ("PARENT_ISO3", "PARENT_ISO"),
    "reported_area_km2": "REP_AREA",
    "reported_marine_area_km2": "REP_M_AREA",
    "marine": "MARINE",
}
# WDPA releases from 2025 on renamed the identifiers and a few attributes.
WDPA_2025: dict[str, str | tuple[str, ...]] = {
    **CLASSIC_WDPA,
    "wdpa_id": "SITE_ID",
    "wdpa_pid": "SITE_PID",
    "name": "NAME_ENG",
    "orig_name": "NAME",
    "parent_iso3": "PRNT_ISO3",
    "marine": "REALM",
}
# Protected Areas Data (PAD) country files: id, name, nameloc, type, iso3, daterec.
PAD: dict[str, str | tuple[str, ...]] = {
    "name": "name",
    "orig_name": "nameloc",
    "designation": "typeloc",
    "designation_eng": "type",
    "iso3": "iso3",
    "status_year": "daterec",
}
ID_GUESSES = ("WDPA_PID", "SITE_PID", "id", "fid", "code", "pcode", "adm1_pcode", "adm2_pcode")
NAME_GUESSES = ("name", "name_en", "name_eng", "adm1_en", "adm2_en", "title")


@dataclass
class Feature:
    source_id: str
    fields: dict[str, Any]
    attributes: dict[str, Any]
    geometry: BaseGeometry  # a valid 2D MultiPolygon in EPSG:4326

    def fingerprint(self) -> str:
        payload = json.dumps([self.fields, self.attributes], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode() + shapely.to_wkb(self.geometry)).hexdigest()


@dataclass
class Rejection:
    index: int
    source_id: str
    reason: str


@dataclass
class ReadResult:
    schema: str
    source: str
    layer: str
    features: list[Feature] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    repaired: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    read: ReadResult
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False

    @property
    def rejected(self) -> list[Rejection]:
        return self.read.rejected

    def summary(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.rejected)} rejected, {len(self.read.repaired)} repaired"
        )


def import_areas(
    path: str | Path,
    layer: str | None = None,
    id_field: str | None = None,
    name_field: str | None = None,
    source: str | None = None,
    source_crs: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Read a file and upsert its areas. Raises fieldkit.errors.Problem for a file that
    cannot be imported at all; rejected features are reported, not written."""
    result = read_features(path, layer, id_field, name_field, source, source_crs)
    report = ImportReport(read=result, dry_run=dry_run)
    with transaction.atomic():
        existing = {
            area.source_id: area
            for area in ProtectedArea.objects.filter(
                source=result.source, source_id__in=[f.source_id for f in result.features]
            )
        }
        for feature in result.features:
            fingerprint = feature.fingerprint()
            area = existing.get(feature.source_id)
            if area is not None and area.source_hash == fingerprint:
                report.unchanged += 1
                continue
            if area is None:
                area = ProtectedArea(source=result.source, source_id=feature.source_id)
                report.created += 1
            else:
                if not area.boundary.equals_exact(geometry.to_geos(feature.geometry), 0):
                    area.timezone = ""  # the boundary moved: guess its timezone again
                report.updated += 1
            for name, value in feature.fields.items():
                setattr(area, name, value)
            area.attributes = feature.attributes
            area.boundary = geometry.to_geos_multipolygon(feature.geometry)
            area.source_hash = fingerprint
            area.save()
        if dry_run:
            transaction.set_rollback(True)
    return report


def read_features(
    path: str | Path,
    layer: str | None = None,
    id_field: str | None = None,
    name_field: str | None = None,
    source: str | None = None,
    source_crs: str | None = None,
) -> ReadResult:
    path = str(path)
    layer = choose_layer(path, layer)
    try:
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # GDAL reports bad files with several exception types
        raise errors.IMPORT_UNREADABLE(path=path, detail=str(exc).strip()) from exc
    if len(frame) == 0:
        raise errors.IMPORT_EMPTY(path=path)
    if "geometry" not in frame or frame.geometry.isna().all():
        raise errors.IMPORT_NOT_POLYGONS(path=path, kinds="no geometries")

    columns = {str(c).lower(): str(c) for c in frame.columns if c != "geometry"}
    schema, mapping, key_field = detect_schema(path, columns, id_field, name_field)
    if source is None:
        # The layer name, not the path: a folder, its .shp and a zip of it are one dataset.
        source = "wdpa" if schema.startswith("wdpa") else layer.lower()
    result = ReadResult(schema=schema, source=source, layer=layer)

    frame = to_wgs84(frame, path, source_crs, result)
    kinds = set(frame.geometry.dropna().geom_type)
    if not kinds & {"Polygon", "MultiPolygon", "GeometryCollection"}:
        raise errors.IMPORT_NOT_POLYGONS(path=path, kinds=", ".join(sorted(kinds)))

    seen: dict[str, int] = {}
    source_columns = [c for c in frame.columns if c != "geometry"]
    for index, (geom, values) in enumerate(
        zip(frame.geometry, frame[source_columns].itertuples(index=False), strict=True)
    ):
        attributes = {col: plain(v) for col, v in zip(source_columns, values, strict=True)}
        lower = {k.lower(): v for k, v in attributes.items()}
        source_id = key_value(lower, key_field, mapping)
        if not source_id:
            result.rejected.append(Rejection(index, "", f"no value in the id field {key_field!r}"))
            continue
        if source_id in seen:
            result.rejected.append(
                Rejection(index, source_id, f"duplicate id (first at feature {seen[source_id]})")
            )
            continue
        seen[source_id] = index
        fields = {model: convert(model, lower.get(src.lower())) for model, src in mapping.items()}
        if not fields.get("name"):
            result.rejected.append(Rejection(index, source_id, "no name"))
            continue
        clean, problem = clean_geometry(geom)
        if clean is None:
            result.rejected.append(Rejection(index, source_id, problem))
            continue
        if problem:
            result.repaired.append((source_id, problem))
        result.features.append(Feature(source_id, fields, attributes, clean))
    return result


def choose_layer(path: str, layer: str | None) -> str:
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:
        raise errors.IMPORT_UNREADABLE(path=path, detail=str(exc).strip()) from exc
    names = [str(name) for name, _ in layers]
    if not names:
        raise errors.IMPORT_NO_LAYERS(path=path)
    if layer is not None:
        if layer not in names:
            raise errors.IMPORT_UNKNOWN_LAYER(path=path, layer=layer, layers=", ".join(names))
        return layer
    if len(names) == 1:
        return names[0]
    polygonal = [str(name) for name, kind in layers if kind and "polygon" in str(kind).lower()]
    if len(polygonal) == 1:
        return polygonal[0]
    raise errors.IMPORT_LAYER_CHOICE(path=path, layers=", ".join(polygonal or names))


def detect_schema(
    path: str, columns: dict[str, str], id_field: str | None, name_field: str | None
) -> tuple[str, dict[str, str], str]:
    """(schema name, model field → source field, the field that keys upserts)."""
    if id_field is None and name_field is None:
        if "wdpaid" in columns:
            key = "WDPA_PID" if "wdpa_pid" in columns else "WDPAID"
            return "wdpa", present(CLASSIC_WDPA, columns), key
        if "site_id" in columns:
            key = "SITE_PID" if "site_pid" in columns else "SITE_ID"
            return "wdpa-2025", present(WDPA_2025, columns), key
        if {"id", "name", "nameloc", "iso3"} <= columns.keys():
            return "pad", present(PAD, columns), "id"
    id_field = id_field or next((columns[g] for g in map(str.lower, ID_GUESSES) if g in columns), None)
    name_field = name_field or next((columns[g] for g in map(str.lower, NAME_GUESSES) if g in columns), None)
    fields = ", ".join(columns.values())
    if id_field is None or name_field is None:
        raise errors.IMPORT_UNKNOWN_SCHEMA(path=path, fields=fields)
    for role, wanted in (("id", id_field), ("name", name_field)):
        if wanted.lower() not in columns:
            raise errors.IMPORT_MISSING_FIELD(path=path, role=role, field=wanted, fields=fields)
    return "generic", {"name": columns[name_field.lower()]}, columns[id_field.lower()]


def present(mapping: dict[str, str | tuple[str, ...]], columns: dict[str, str]) -> dict[str, str]:
    """The mapping restricted to the fields the file has, with the file's own spelling."""
    found = {}
    for model, sources in mapping.items():
        for src in (sources,) if isinstance(sources, str) else sources:
            if src.lower() in columns:
                found[model] = columns[src.lower()]
                break
    return found


def key_value(lower: dict[str, Any], key_field: str, mapping: dict[str, str]) -> str:
    value = lower.get(key_field.lower())
    if value in (None, "") and key_field.upper() in ("WDPA_PID", "SITE_PID"):
        value = lower.get("wdpaid" if key_field.upper() == "WDPA_PID" else "site_id")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def to_wgs84(
    frame: gpd.GeoDataFrame, path: str, source_crs: str | None, result: ReadResult
) -> gpd.GeoDataFrame:
    if source_crs:
        frame = frame.set_crs(source_crs, allow_override=True)
    elif frame.crs is None:
        west, south, east, north = frame.total_bounds
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            raise errors.IMPORT_NO_CRS(path=path)
        result.warnings.append("The file declares no CRS; its coordinates read as EPSG:4326.")
        frame = frame.set_crs("EPSG:4326")
    if frame.crs.to_epsg() != 4326:
        result.warnings.append(f"Reprojected from {frame.crs.to_string()} to EPSG:4326.")
        frame = frame.to_crs("EPSG:4326")
    return frame


def clean_geometry(geom: BaseGeometry | None) -> tuple[BaseGeometry | None, str]:
    """(valid 2D MultiPolygon or None, what was repaired or why it was rejected)."""
    if geom is None or geom.is_empty:
        return None, "no geometry"
    if geom.geom_type in ("Point", "MultiPoint"):
        return None, "a point, not a boundary"
    if geom.geom_type in ("LineString", "MultiLineString", "LinearRing"):
        return None, "a line, not a boundary"
    repaired = ""
    if geom.has_z:
        geom = shapely.force_2d(geom)
    if not geom.is_valid:
        repaired = f"invalid geometry repaired ({shapely.is_valid_reason(geom)})"
        geom = shapely.make_valid(geom)
    polygons = geometry.polygonal_part(geom)
    if polygons.is_empty:
        return None, "no polygon left after repairing the geometry"
    return polygons, repaired


def plain(value: Any) -> Any:
    """A JSON-safe Python value from what pandas hands back (NaN, numpy scalars, dates)."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def convert(model_field: str, value: Any) -> Any:
    return CONVERTERS.get(model_field, text)(value)


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def integer(value: Any) -> int | None:
    try:
        number = int(float(str(value).strip()))
    except (TypeError, ValueError):
        return None
    return number or None


def year(value: Any) -> int | None:
    """STATUS_YR is a number (0 = unknown); PAD's daterec is an EDTF date ("2004-01-01")."""
    digits = text(value)[:4]
    number = integer(digits) if digits.isdigit() else integer(value)
    return number if number and 1800 <= number <= 2200 else None


def number(value: Any) -> float | None:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(result) else result


IUCN_LOOKUP = {choice.value.lower(): choice.value for choice in IUCNCategory}


def iucn(value: Any) -> str:
    raw = text(value)
    return IUCN_LOOKUP.get(raw.lower(), IUCNCategory.NOT_REPORTED if raw else "")


def marine(value: Any) -> int:
    raw = text(value).lower()
    if raw in ("1", "coastal", "marine and terrestrial"):
        return Marine.COASTAL
    if raw in ("2", "marine"):
        return Marine.MARINE
    return Marine.TERRESTRIAL


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "wdpa_id": integer,
    "status_year": year,
    "reported_area_km2": number,
    "reported_marine_area_km2": number,
    "iucn_category": iucn,
    "marine": marine,
}


def format_report(report: ImportReport) -> Iterable[str]:
    read = report.read
    yield f"{read.layer} ({read.schema} schema, source {read.source!r})"
    for warning in read.warnings:
        yield f"  warning: {warning}"
    for source_id, what in read.repaired:
        yield f"  repaired {source_id}: {what}"
    for rejection in read.rejected:
        yield f"  rejected feature {rejection.index} ({rejection.source_id or 'no id'}): {rejection.reason}"
    prefix = "dry run, nothing written: " if report.dry_run else ""
    yield prefix + report.summary()
