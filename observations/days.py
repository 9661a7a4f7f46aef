"""Cutting a patrol leg into leg-days, SMART's unit of effort: pure, no ORM.

A leg's patrol_day records are its days; a leg without them is cut at midnight in the
area's timezone, its track shared between the days in proportion to the time walked.
Distances are measured later, in the database, on the ellipsoid (observations.queries).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import shapely
from shapely.geometry import LineString
from shapely.ops import substring

from observations.ingest import Flag, LegInput, LonLat


@dataclass(frozen=True)
class DayPlan:
    """One leg-day as it will be stored, with SMART's effort values (distance excepted: it
    is measured in the database, on the ellipsoid)."""

    day: date
    start: datetime | None
    end: datetime | None
    rest_minutes: float
    # Parts of the track walked this day, lon/lat; None for a day without a track.
    track: list[list[LonLat]] | None
    patrol_hours: float
    field_hours: float
    path: str = ""
    flags: tuple[Flag, ...] = ()


def plan_leg_days(leg: LegInput, tz: ZoneInfo, fallback_day: date) -> list[DayPlan]:
    """The leg-days of a leg: its patrol_day records, or its start..end cut at midnight in
    the area's timezone (`tz`)."""
    if leg.days:
        plans = []
        for d in leg.days:
            plans.extend(
                _cut_days(d.start, d.end, d.rest_minutes, d.track, tz, fallback_day, d.path, single=True)
            )
        return plans
    return _cut_days(
        leg.start, leg.end, leg.rest_minutes, leg.track, tz, fallback_day, leg.path, single=False
    )


def _cut_days(
    start: datetime | None,
    end: datetime | None,
    rest_minutes: float | None,
    track: list[LonLat] | None,
    tz: ZoneInfo,
    fallback_day: date,
    path: str,
    single: bool,
) -> list[DayPlan]:
    rest = max(0.0, rest_minutes or 0.0)
    parts = [track] if track else None
    flags: list[Flag] = []
    if not track:
        flags.append(Flag("no_track", "no usable track for this day: its distance is 0", path))
    if start is None or end is None:
        known = start or end
        day = known.astimezone(tz).date() if known else fallback_day
        flags.append(Flag("bad_value", "start or end time missing: field hours are 0", path))
        return [DayPlan(day, start, end, rest, parts, 0.0, 0.0, path, tuple(flags))]
    if end < start:
        flags.append(
            Flag("end_before_start", f"ends {end.isoformat()} before it starts {start.isoformat()}", path)
        )
        return [DayPlan(start.astimezone(tz).date(), start, end, rest, parts, 0.0, 0.0, path, tuple(flags))]

    # A patrol_day record is one day whatever the clock says; a leg is cut at local midnights.
    bounds = [(start, end)] if single else _midnight_cuts(start, end, tz)
    total = (end - start).total_seconds()
    line = LineString(track) if track else None
    plans = []
    for i, (s, e) in enumerate(bounds):
        seconds = (e - s).total_seconds()
        share = seconds / total if total > 0 else 1.0 / len(bounds)
        day_rest = rest * share
        hours = seconds / 3600.0
        field_hours = max(0.0, hours - day_rest / 60.0)
        day_track: list[list[LonLat]] | None = None
        if line is not None:
            if len(bounds) == 1:
                day_track = [list(track or [])]
            else:
                # Without times on its points a track is shared in proportion to the time
                # walked each day (fractions of its length in degrees: the cut points move
                # by metres, the total length is kept).
                before = sum((b[1] - b[0]).total_seconds() for b in bounds[:i]) / total
                piece = substring(line, before, before + share, normalized=True)
                coords = [(x, y) for x, y, *_ in shapely.get_coordinates(piece).tolist()]
                day_track = [coords] if len(coords) >= 2 and piece.length > 0 else None
        plans.append(
            DayPlan(
                day=s.astimezone(tz).date(),
                start=s,
                end=e,
                rest_minutes=round(day_rest, 3),
                track=day_track,
                patrol_hours=round(hours, 6),
                field_hours=round(field_hours, 6),
                path=path,
                flags=tuple(flags) if i == 0 else (),
            )
        )
    return plans


def _midnight_cuts(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    cuts = []
    current = start
    while True:
        local = current.astimezone(tz)
        next_midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
        if next_midnight >= end:
            cuts.append((current, end))
            return cuts
        cuts.append((current, next_midnight))
        current = next_midnight
