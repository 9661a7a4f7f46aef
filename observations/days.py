"""Cutting a patrol leg into leg-days, SMART's unit of effort: pure, no ORM.

A leg's patrol_day records are its days; a leg without them that spans several local
days is cut at midnight in the area's timezone, and nights are never patrol hours: each
day runs from its first to its last recorded time (the leg's start or end, or an
observation's time: a geotrace carries no per-point times), and that assumption is flagged
(`day_hours_from_times`). A day between them with no recorded time has no hours (its
person-days still count). The track is shared between the days in proportion to those
hours. Distances are measured later, in the database, on the ellipsoid
(observations.queries).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo

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
    # The day repeat's own uuid (`record.uuid`), for a day from a patrol_day record.
    uuid: uuid.UUID | None = None


def plan_leg_days(
    leg: LegInput, tz: tzinfo, fallback_day: date, times: list[datetime] | None = None
) -> list[DayPlan]:
    """The leg-days of a leg: its patrol_day records, or its start..end cut at midnight in
    the local calendar (`tz`: the area's timezone, or the phone's UTC offset), each day from
    its first to its last recorded time (`times`: the observation times of the patrol)."""
    if leg.days:
        plans: list[DayPlan] = []
        for d in leg.days:
            plans.extend(
                replace(plan, uuid=d.uuid)
                for plan in _cut_days(
                    d.start, d.end, d.rest_minutes, d.track, tz, fallback_day, d.path, single=True
                )
            )
        return plans
    return _cut_days(
        leg.start,
        leg.end,
        leg.rest_minutes,
        leg.track,
        tz,
        fallback_day,
        leg.path,
        single=False,
        times=times or [],
    )


def _cut_days(
    start: datetime | None,
    end: datetime | None,
    rest_minutes: float | None,
    track: list[LonLat] | None,
    tz: tzinfo,
    fallback_day: date,
    path: str,
    single: bool,
    times: list[datetime] | None = None,
) -> list[DayPlan]:
    rest = max(0.0, rest_minutes or 0.0)
    parts = [track] if track else None
    flags: list[Flag] = []
    if not track:
        flags.append(
            Flag(
                "no_track",
                "no usable track for this day: its distance is 0, its effort stays on its area",
                path,
            )
        )
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
    cuts = [(start, end)] if single else _midnight_cuts(start, end, tz)
    spans: list[tuple[datetime | None, datetime | None]] = list(cuts)
    if len(cuts) > 1:
        spans = _recorded_spans(cuts, start, end, times or [])
        flags.append(
            Flag(
                "day_hours_from_times",
                f"{len(cuts)} days without day records: each day's hours run from its first to its "
                "last recorded time, nights excluded",
                path,
            )
        )
    seconds_of = [(e - s).total_seconds() if s and e else 0.0 for s, e in spans]
    total = sum(seconds_of)
    line = LineString(track) if track else None
    plans = []
    done = 0.0
    for i, ((cut_start, _), (s, e)) in enumerate(zip(cuts, spans, strict=True)):
        seconds = seconds_of[i]
        share = seconds / total if total > 0 else 1.0 / len(spans)
        day_rest = rest * share
        hours = seconds / 3600.0
        field_hours = max(0.0, hours - day_rest / 60.0)
        day_track: list[list[LonLat]] | None = None
        if line is not None:
            if len(spans) == 1:
                day_track = [list(track or [])]
            elif share > 0:
                # Without times on its points a track is shared in proportion to the hours
                # walked each day (fractions of its length in degrees: the cut points move
                # by metres, the total length is kept).
                piece = substring(line, done, min(1.0, done + share), normalized=True)
                coords = [(x, y) for x, y, *_ in shapely.get_coordinates(piece).tolist()]
                day_track = [coords] if len(coords) >= 2 and piece.length > 0 else None
        done += share
        plans.append(
            DayPlan(
                day=cut_start.astimezone(tz).date(),
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


def _recorded_spans(
    cuts: list[tuple[datetime, datetime]], start: datetime, end: datetime, times: list[datetime]
) -> list[tuple[datetime | None, datetime | None]]:
    """Each local day's first and last recorded time: the leg's start and end and the
    `times` inside the leg; (None, None) for a day with none."""
    recorded = sorted({start, end, *(t for t in times if start <= t <= end)})
    spans: list[tuple[datetime | None, datetime | None]] = []
    for cut_start, cut_end in cuts:
        inside = [t for t in recorded if cut_start <= t < cut_end or (t == end and cut_end == end)]
        spans.append((inside[0], inside[-1]) if inside else (None, None))
    return spans


def _midnight_cuts(start: datetime, end: datetime, tz: tzinfo) -> list[tuple[datetime, datetime]]:
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
