"""Answers as ODK sends them, read into Python values: pure, no ORM.

ODK geopoints are "lat lon altitude accuracy"; everything past `parse_geopoint` is lon, lat
(GeoJSON order). That swap is written out once, here.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from observations import vocabulary

# Positions GPS chips report when they have no fix (ecoscope drops these too).
JUNK_FIXES = ((0.0, 0.0), (1.0, 1.0), (180.0, 90.0))


@dataclass(frozen=True)
class GeoPoint:
    lon: float
    lat: float
    altitude: float | None = None
    accuracy: float | None = None


class BadValue(ValueError):
    pass


def parse_geopoint(text: str) -> GeoPoint:
    """ODK "lat lon [alt [acc]]" → GeoPoint(lon, lat, ...). The one place the order flips."""
    parts = text.split()
    if len(parts) < 2:
        raise BadValue(f"not a geopoint: {text!r}")
    try:
        lat, lon = float(parts[0]), float(parts[1])
        alt = float(parts[2]) if len(parts) > 2 else None
        acc = float(parts[3]) if len(parts) > 3 else None
    except ValueError as exc:
        raise BadValue(f"not a geopoint: {text!r}") from exc
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        raise BadValue(f"coordinates out of range: {text!r}")
    return GeoPoint(lon=lon, lat=lat, altitude=alt, accuracy=acc)


def parse_geotrace(text: str) -> list[GeoPoint]:
    """ODK "lat lon alt acc;lat lon alt acc;..." → points (a trailing ";" is allowed)."""
    return [parse_geopoint(part) for part in text.split(";") if part.strip()]


def is_junk_fix(point: GeoPoint) -> bool:
    return any(abs(point.lon - x) < 1e-6 and abs(point.lat - y) < 1e-6 for x, y in JUNK_FIXES)


def parse_datetime(text: str) -> datetime:
    """An ODK dateTime ("2024-03-05T08:12:33.123+10:00") as aware UTC. A time without an
    offset is taken as UTC (ODK always sends one)."""
    value = text.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadValue(f"not a date and time: {text!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_datetime_offset(text: str) -> tuple[datetime, timedelta | None]:
    """An ODK dateTime as aware UTC, with the UTC offset the phone wrote (None when the
    value has none): the offset is the phone's local time, which places a day on the local
    calendar where the area's timezone is not known."""
    value = text.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadValue(f"not a date and time: {text!r}") from exc
    offset = parsed.utcoffset()
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC), offset


def parse_uuid(text: str) -> uuid.UUID:
    """A record's uuid as ODK's uuid() writes it (with or without a `uuid:` prefix)."""
    value = text.strip()
    value = value[5:] if value.lower().startswith("uuid:") else value
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise BadValue(f"not a UUID: {text!r}") from exc


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError as exc:
        raise BadValue(f"not a date: {text!r}") from exc


def parse_year(text: str) -> int:
    value = text.strip()
    if len(value) >= 10:
        return parse_date(value).year
    try:
        year = int(value)
    except ValueError as exc:
        raise BadValue(f"not a year: {text!r}") from exc
    if not 1900 <= year <= 2200:
        raise BadValue(f"not a plausible year: {text!r}")
    return year


def parse_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise BadValue(f"not a number: {text!r}") from exc
    if not math.isfinite(value):
        raise BadValue(f"not a number: {text!r}")
    return value


def parse_int(text: str) -> int:
    value = parse_number(text)
    if value != int(value) or value < 0:
        raise BadValue(f"not a whole number ≥ 0: {text!r}")
    return int(value)


def parse_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise BadValue(f"not an amount: {text!r}") from exc
    if not value.is_finite():
        raise BadValue(f"not an amount: {text!r}")
    return value.quantize(Decimal("0.01"))


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in vocabulary.YES:
        return True
    if value in vocabulary.NO:
        return False
    raise BadValue(f"not yes or no: {text!r}")


# --- Area codes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaRef:
    """A protected area as an answer names it: by WDPA id, or by source and source id."""

    wdpa_id: int | None = None
    source: str = ""
    source_id: str = ""


def area_code(*, wdpa_id: int | None, source: str, source_id: str) -> str:
    """How a protected area is named in forms and their answers (`patrol.area`,
    `mett.area`...): its WDPA id, or `<source>:<source_id>` for areas not from the WDPA.
    parse_area_code reads it back."""
    return str(wdpa_id) if wdpa_id else f"{source}:{source_id}"


def parse_area_code(text: str) -> AreaRef | None:
    """An area code (see area_code) as an AreaRef; None when it is neither form."""
    code = text.strip()
    if code.isdigit():
        return AreaRef(wdpa_id=int(code))
    if ":" in code:
        source, _, source_id = code.partition(":")
        return AreaRef(source=source, source_id=source_id)
    return None
