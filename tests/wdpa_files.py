"""Hand-made WDPA files of both schemas, written with geopandas in the format asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import Point, Polygon, box

CLASSIC_ROW: dict[str, Any] = {
    "WDPAID": 1001,
    "WDPA_PID": "1001",
    "PA_DEF": "1",
    "NAME": "Mount Wilhelm",
    "ORIG_NAME": "Mt Wilhelm",
    "DESIG": "National Park",
    "DESIG_ENG": "National Park",
    "DESIG_TYPE": "National",
    "IUCN_CAT": "II",
    "INT_CRIT": "Not Applicable",
    "MARINE": "0",
    "REP_M_AREA": 0.0,
    "GIS_M_AREA": 0.0,
    "REP_AREA": 120.5,
    "GIS_AREA": 119.8,
    "NO_TAKE": "Not Applicable",
    "NO_TK_AREA": 0.0,
    "STATUS": "Designated",
    "STATUS_YR": 1978,
    "GOV_TYPE": "Federal or national ministry or agency",
    "OWN_TYPE": "State",
    "MANG_AUTH": "CEPA",
    "MANG_PLAN": "Not Reported",
    "VERIF": "State Verified",
    "METADATAID": 1,
    "SUB_LOC": "PG-CPK",
    "PARENT_ISO3": "PNG",
    "ISO3": "PNG",
    "SUPP_INFO": "Not Applicable",
    "CONS_OBJ": "Not Applicable",
}

SQUARE = box(145.0, -6.0, 145.1, -5.9)
# A bow tie: self-intersecting, repaired by make_valid into two triangles.
BOWTIE = Polygon([(145.2, -6.0), (145.3, -5.9), (145.3, -6.0), (145.2, -5.9), (145.2, -6.0)])


def classic_row(**changes: Any) -> dict[str, Any]:
    return {**CLASSIC_ROW, **changes}


def site_row(**changes: Any) -> dict[str, Any]:
    """A 2025+ WDPA row: SITE_ID/SITE_PID/NAME_ENG/PRNT_ISO3/REALM."""
    row = {
        "SITE_ID": 2002,
        "SITE_PID": "2002",
        "SITE_TYPE": "PA",
        "NAME_ENG": "Lake Kutubu",
        "NAME": "Lake Kutubu",
        "DESIG": "Wildlife Management Area",
        "DESIG_ENG": "Wildlife Management Area",
        "DESIG_TYPE": "National",
        "IUCN_CAT": "VI",
        "REALM": "Terrestrial",
        "REP_AREA": 240.0,
        "STATUS": "Designated",
        "STATUS_YR": 1992,
        "GOV_TYPE": "Indigenous peoples",
        "GOVSUBTYPE": "Not Reported",
        "OWN_TYPE": "Communal",
        "OWNSUBTYPE": "Not Reported",
        "MANG_AUTH": "Customary landowners",
        "ISO3": "PNG",
        "PRNT_ISO3": "PNG",
        "INLND_WTRS": "Partial",
        "OECM_ASMT": "Not Applicable",
    }
    row.update(changes)
    return row


def write(
    path: Path,
    rows: list[dict[str, Any]],
    geometries: list[Any],
    crs: str | None = "EPSG:4326",
    layer: str | None = None,
    driver: str | None = None,
) -> Path:
    frame = gpd.GeoDataFrame(rows, geometry=geometries, crs=crs)
    kwargs: dict[str, Any] = {"engine": "pyogrio"}
    if layer:
        kwargs["layer"] = layer
    if driver:
        kwargs["driver"] = driver
    frame.to_file(path, **kwargs)
    return path


def point(lon: float = 145.05, lat: float = -5.95) -> Point:
    return Point(lon, lat)
