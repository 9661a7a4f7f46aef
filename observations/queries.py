"""Reads of field records and the spatial SQL that places them: one place for the
questions later floors (indicators, maps, exports) ask too.

Spatial work happens in the database: a track is clipped to every area and zone it
crosses with ST_Intersection and measured with a geodesic length; an observation gets its
areas and zones by point-in-polygon (all of them: ObservationPlace), the smallest area
being its primary one. `placeable`
is the set of area ids where the sender may send data (odk_forms.queries.placeable_area_ids;
None: anywhere): only those areas receive records or effort.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.gis.db.models.functions import Intersection, Length
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection
from django.db.models import (
    ExpressionWrapper,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from accounts import access
from accounts.access import Capability
from observations import parsing
from observations.models import (
    AgencyFiscalYear,
    METTScore,
    Observation,
    ObservationPlace,
    PatrolLegDay,
    SpeciesObservation,
    Taxon,
    TrackSegment,
    Vertical,
)
from protected_areas.models import ProtectedArea, Zone

# The geodesic length of a track clipped to a boundary, per database (`a` is the area or
# zone, `d` the leg-day); the same functions Django's Intersection and Length(spheroid=True)
# compile to: ST_Intersection + ST_LengthSpheroid on PostGIS, Intersection + GeodesicLength
# on SpatiaLite.
_CLIPPED_LENGTH = {
    "postgresql": "ST_LengthSpheroid(ST_Intersection(a.boundary, d.track), "
    "'SPHEROID[\"WGS 84\",6378137,298.257223563]')",
    "sqlite": "GeodesicLength(Intersection(a.boundary, d.track))",
}
# The geodesic length of a leg-day's whole track (what Length(spheroid=True) compiles to).
_TRACK_LENGTH = {
    "postgresql": "ST_LengthSpheroid(track, 'SPHEROID[\"WGS 84\",6378137,298.257223563]')",
    "sqlite": "GeodesicLength(track)",
}
_INTERSECTS = {
    "postgresql": "ST_Intersects(a.boundary, d.track)",
    "sqlite": "Intersects(a.boundary, d.track)",
}
# What recording needs of an area found for a record (not its boundary).
_AREA_FIELDS = ("pk", "name", "timezone", "management_authority")


def _km(length: Any) -> ExpressionWrapper:
    return ExpressionWrapper(Coalesce(length, Value(0.0)) / Value(1000.0), output_field=FloatField())


def _areas(placeable: frozenset[int] | None) -> QuerySet[ProtectedArea]:
    areas = ProtectedArea.objects.all()
    return areas if placeable is None else areas.filter(pk__in=placeable)


# --- Areas ---------------------------------------------------------------------------------


def recording_areas() -> QuerySet[ProtectedArea]:
    """Areas as recording needs them: without their boundaries, with `fiscal_start_month`
    (AgencyFiscalYear of their agency; None: January) read in the same query."""
    month = AgencyFiscalYear.objects.filter(agency=OuterRef("management_authority")).values("start_month")
    return ProtectedArea.objects.only(*_AREA_FIELDS).annotate(fiscal_start_month=Subquery(month[:1]))


def area_by_code(code: str) -> ProtectedArea | None:
    """The area an answer names by its code (observations.parsing.parse_area_code)."""
    ref = parsing.parse_area_code(code)
    if ref is None:
        return None
    if ref.wdpa_id is not None:
        return recording_areas().filter(wdpa_id=ref.wdpa_id).order_by("pk").first()
    return recording_areas().filter(source=ref.source, source_id=ref.source_id).first()


def form_areas(form_id: int) -> list[ProtectedArea]:
    """A form's areas as recording needs them (recording_areas), in one query."""
    return list(recording_areas().filter(odk_forms=form_id))


def longest_stretch_area(
    placeable: frozenset[int] | None, *, track: GEOSGeometry | None = None, patrol_id: int | None = None
) -> ProtectedArea | None:
    """The area holding the longest stretch of a track, among `placeable`: most km, then
    the smaller area, then the older one. Of `track`, clipped here (a patrol's area is
    needed before its days exist), or of a patrol's leg-days, summed from the segments
    measure_tracks wrote (which hold only `placeable` areas)."""
    if patrol_id is not None:
        longest = (
            TrackSegment.objects.filter(leg_day__patrol_id=patrol_id, zone=None)
            .values("area")
            .annotate(km=Sum("distance_km"))
            .order_by("-km", "area__area_km2", "area")
            .values("area")[:1]
        )
        return ProtectedArea.objects.filter(pk=Subquery(longest)).only(*_AREA_FIELDS).first()
    if track is None:
        return None
    return (
        _areas(placeable)
        .filter(boundary__intersects=track)
        .annotate(km=_km(Length(Intersection("boundary", track), spheroid=True)))
        .order_by("-km", "area_km2", "pk")
        .only(*_AREA_FIELDS)
        .first()
    )


def names_of_areas_crossed(track: GEOSGeometry, excluding: Iterable[int]) -> list[str]:
    """Names of the areas a track crosses, but for `excluding`, sorted."""
    return sorted(
        ProtectedArea.objects.filter(boundary__intersects=track)
        .exclude(pk__in=list(excluding))
        .values_list("name", flat=True)
    )


# --- Tracks ----------------------------------------------------------------------------------


def _areas_then_zones(
    placeable: frozenset[int] | None, select: str, tail: str, params: list[Any]
) -> tuple[str, list[Any]]:
    """One SELECT over both boundary tables a point or track is joined to, the areas (no
    zone) UNION ALL the zones (with their area), and its parameters: `select` is formatted
    with `table`, `zone` and `area` (the zone and area expressions; `a` is the joined
    table's alias), `tail` is added to each half with `params`, then the condition keeping
    only `placeable` areas. One statement rather than one per table: this runs for every
    submission."""
    tables = [
        (ProtectedArea._meta.db_table, "CAST(NULL AS BIGINT)", "a.id"),
        (Zone._meta.db_table, "a.id", "a.area_id"),
    ]
    allowed = sorted(placeable) if placeable is not None else []
    marks = ", ".join(["%s"] * len(allowed))
    parts, args = [], []
    for table, zone, area in tables:
        only = ""
        if placeable is not None:
            only = f" AND {area} IN ({marks})" if allowed else " AND 1=0"
        parts.append(select.format(table=table, zone=zone, area=area) + tail + only)
        args += [*params, *allowed]
    return " UNION ALL ".join(parts), args


def measure_tracks(patrol_id: int, placeable: frozenset[int] | None) -> dict[int, float]:
    """Geodesic length of each leg-day's track, whole and clipped to every area and zone
    it crosses (TrackSegment rows), computed by the database in two statements per patrol,
    with the day's patrol hours, field hours and person-days apportioned by the share of
    its distance inside each (TrackSegment says why). Only areas in `placeable` get a
    share of the effort. Returns each measured leg-day's km by id."""
    days = PatrolLegDay._meta.db_table
    measure = (
        f"UPDATE {days} SET distance_km = COALESCE({_TRACK_LENGTH[connection.vendor]}, 0) / 1000.0 "  # noqa: S608
        "WHERE patrol_id = %s AND track IS NOT NULL"
    )
    length = _CLIPPED_LENGTH[connection.vendor]
    segments = TrackSegment._meta.db_table
    clipped, params = _areas_then_zones(
        placeable,
        "SELECT d.id AS id, {area} AS area, {zone} AS zone, d.day AS day, "  # noqa: S608
        f"COALESCE({length}, 0) / 1000.0 AS km, d.distance_km AS dkm, d.patrol_hours AS ph, "
        "d.field_hours AS fh, d.person_days AS pd "
        f"FROM {days} d JOIN {{table}} a ON {_INTERSECTS[connection.vendor]}",
        " WHERE d.patrol_id = %s AND d.track IS NOT NULL",
        [patrol_id],
    )
    with connection.cursor() as cursor:
        if connection.features.can_return_rows_from_bulk_insert:
            cursor.execute(f"{measure} RETURNING id, distance_km", [patrol_id])
            measured = dict(cursor.fetchall())
        else:
            cursor.execute(measure, [patrol_id])
            measured = dict(
                PatrolLegDay.objects.filter(patrol_id=patrol_id, track__isnull=False).values_list(
                    "pk", "distance_km"
                )
            )
        cursor.execute(
            # MATERIALIZED: a subquery in FROM would be folded into the outer SELECT by
            # both databases, clipping the track once for every use of `km`.
            f"INSERT INTO {segments} (leg_day_id, area_id, zone_id, distance_km, "  # noqa: S608
            "patrol_hours, field_hours, person_days, has_track, day) "
            f"WITH clipped AS MATERIALIZED ({clipped}) "
            "SELECT id, area, zone, km, "
            "CASE WHEN dkm > 0 THEN ph * km / dkm ELSE 0 END, "
            "CASE WHEN dkm > 0 THEN fh * km / dkm ELSE 0 END, "
            "CASE WHEN dkm > 0 THEN pd * km / dkm ELSE 0 END, %s, day "
            "FROM clipped",
            [*params, True],
        )
    return measured


# --- Observations ----------------------------------------------------------------------------


# An observation is in its primary area and in every area containing it (ObservationPlace):
# a role in a reserve reaches the records of the park inside it. The primary area too, for
# records made before places were written.
_OBSERVATION_AREAS = ("area", "places__area")


def observations_visible_to(user: Any) -> QuerySet[Observation]:
    """Observations `user` may read: every record of the areas where it holds VIEW_RECORDS,
    and the illicit-activity records of those where it holds VIEW_ILLICIT_RECORDS (law
    enforcement); a record is in every area that contains it. Filtered in the database
    (accounts.access.visible)."""
    illicit = access.visible(
        user, Capability.VIEW_ILLICIT_RECORDS, Observation.objects.all(), _OBSERVATION_AREAS
    )
    every = access.visible(user, Capability.VIEW_RECORDS, Observation.objects.all(), _OBSERVATION_AREAS)
    if access.is_superuser(user):
        return every
    # One WHERE with OR, not a subquery of every visible id: the database can then use the
    # area index, and a national role costs one EXISTS.
    return every | illicit.filter(vertical=Vertical.ILLICIT)


_POINT_IN = {
    "postgresql": "ST_Intersects(a.boundary, o.location)",
    "sqlite": "Intersects(a.boundary, o.location)",
}


def place_observations(
    submission_id: int, placeable: frozenset[int] | None
) -> tuple[set[int], dict[int, str]]:
    """Every area and zone holding each located observation of a submission, by
    point-in-polygon among `placeable` areas, written as ObservationPlace rows in one
    statement; then each observation's primary area (the smallest) and zone (the smallest
    of that area's) in another. Returns the ids of those left outside every such area, and
    of these, the ones inside an area where the sender may not send data, with that
    area's name."""
    places, observations = ObservationPlace._meta.db_table, Observation._meta.db_table
    areas, zones = ProtectedArea._meta.db_table, Zone._meta.db_table
    found, params = _areas_then_zones(
        placeable,
        f"SELECT o.id, {{area}}, {{zone}}, o.day FROM {observations} o "  # noqa: S608
        f"JOIN {{table}} a ON {_POINT_IN[connection.vendor]}",
        " WHERE o.submission_id = %s AND o.location IS NOT NULL",
        [submission_id],
    )
    # The zone's subquery finds the primary area again (an UPDATE's SET clauses all see
    # the row as it was), so that both are set in one statement.
    primary = (
        f"SELECT p.area_id FROM {places} p JOIN {areas} pa ON pa.id = p.area_id "  # noqa: S608
        f"WHERE p.observation_id = {observations}.id AND p.zone_id IS NULL "
        "ORDER BY pa.area_km2, pa.id LIMIT 1"
    )
    zone = (
        f"SELECT z.zone_id FROM {places} z JOIN {zones} pz ON pz.id = z.zone_id "  # noqa: S608
        f"WHERE z.observation_id = {observations}.id AND z.area_id = ({primary}) "
        "ORDER BY pz.area_km2, pz.id LIMIT 1"
    )
    update = (
        f"UPDATE {observations} SET area_id = ({primary}), zone_id = ({zone}) "  # noqa: S608
        "WHERE submission_id = %s AND location IS NOT NULL"
    )
    returning = connection.features.can_return_rows_from_bulk_insert
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {places} (observation_id, area_id, zone_id, day) {found}", params)
        if returning:
            cursor.execute(f"{update} RETURNING id, area_id", [submission_id])
            outside = {pk for pk, area_id in cursor.fetchall() if area_id is None}
        else:
            cursor.execute(update, [submission_id])
    if not returning:
        outside = set(
            Observation.objects.filter(
                submission_id=submission_id, location__isnull=False, area__isnull=True
            ).values_list("pk", flat=True)
        )
    forbidden: dict[int, str] = {}
    if outside and placeable is not None:
        # The smallest area holding each unplaced point, where it is in one at all.
        in_area = Observation.objects.filter(pk__in=outside).annotate(
            in_area=Subquery(
                ProtectedArea.objects.filter(boundary__intersects=OuterRef("location"))
                .order_by("area_km2", "pk")
                .values("name")[:1]
            )
        )
        forbidden = {pk: name for pk, name in in_area.values_list("pk", "in_area") if name}
    return outside, forbidden


def localise_observation_days(submission_id: int) -> None:
    """Each placed observation's `day` in its primary area's timezone (it was taken in the
    phone's UTC offset, the form's areas spanning several timezones)."""
    rows = Observation.objects.filter(
        submission_id=submission_id, area__isnull=False, time__isnull=False
    ).values_list("pk", "time", "day", "area__timezone")
    for pk, moment, day, zone in rows:
        try:
            local = moment.astimezone(ZoneInfo(zone)).date() if zone and moment else day
        except (ZoneInfoNotFoundError, ValueError):
            continue
        if local != day:
            Observation.objects.filter(pk=pk).update(day=local)
            ObservationPlace.objects.filter(observation_id=pk).update(day=local)


def first_observation_area(patrol_id: int) -> int | None:
    """The area of a patrol's first placed observation."""
    return (
        Observation.objects.filter(patrol_id=patrol_id, area__isnull=False)
        .order_by("time", "pk")
        .values_list("area_id", flat=True)
        .first()
    )


def occurrences() -> QuerySet[SpeciesObservation]:
    """Species records that say a taxon lives here (observations.categories, Counting
    rules): what species richness, Chao1 and occurrence exports count."""
    return SpeciesObservation.objects.filter(is_occurrence=True)


def mett_scores_in_element(element: str) -> QuerySet[METTScore]:
    """METT scores of questions assessing `element`, first or second (a dual-element
    question counts fully in both)."""
    return METTScore.objects.filter(Q(element=element) | Q(second_element=element))


def taxa_by_name(names: Iterable[object]) -> dict[str, Taxon]:
    """Taxa by lower-cased slug and scientific name, for the names given."""
    wanted = {str(n).strip() for n in names if str(n).strip()}
    if not wanted:
        return {}
    lowered = {n.lower() for n in wanted}
    found: dict[str, Taxon] = {}
    query = Q(slug__in=wanted | lowered)
    for name in wanted:
        query |= Q(scientific_name__iexact=name)
    for taxon in Taxon.objects.filter(query):
        found[taxon.slug.lower()] = taxon
        found[taxon.scientific_name.lower()] = taxon
    return found
