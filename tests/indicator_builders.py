"""Field records written straight into the tables, for indicator tests: a leg-day with its
effort per area and zone, observations with their places. Keyword defaults; say only what
the test is about."""

from __future__ import annotations

import uuid
from datetime import date

from django.contrib.gis.geos import LineString, MultiLineString, Point

from observations.models import (
    Observation,
    ObservationPlace,
    Patrol,
    PatrolLeg,
    PatrolLegDay,
    ResourceUse,
    SpeciesObservation,
    Taxon,
    TrackSegment,
)
from odk_forms.models import FormVersion, ProcessingState, Submission
from protected_areas.models import ProtectedArea, Zone
from tests import observation_builders as ob


def submission(form_version: FormVersion | None = None) -> Submission:
    fv = form_version or FormVersion.objects.first() or ob.publish(ob.incident_form_md(), name="incident.md")
    return Submission.objects.create(
        form=fv.form,
        form_version=fv,
        instance_id=f"uuid:{uuid.uuid4()}",
        xml_file="none.xml",
        xml_sha256="0" * 64,
        state=ProcessingState.PROCESSED,
    )


def _record(sub: Submission | None) -> dict[str, object]:
    sub = sub or submission()
    return {"submission": sub, "root_submission": sub, "form_version_id": sub.form_version_id}


def leg_day(
    area: ProtectedArea,
    day: date,
    km: float = 10.0,
    field_hours: float = 5.0,
    patrol_hours: float = 6.0,
    person_days: float = 4.0,
    zones: dict[Zone, float] | None = None,
    sub: Submission | None = None,
    track: list[tuple[float, float]] | None = None,
) -> PatrolLegDay:
    """A leg-day all in `area`; `zones` gives the km in each zone (hours and person-days
    apportioned by distance, as ingest does); `track` its path (lon, lat), if it has one."""
    patrol = Patrol.objects.create(area=area, **_record(sub))
    leg = PatrolLeg.objects.create(patrol=patrol)
    legday = PatrolLegDay.objects.create(
        leg=leg,
        patrol=patrol,
        day=day,
        distance_km=km,
        field_hours=field_hours,
        patrol_hours=patrol_hours,
        person_days=person_days,
        track=MultiLineString(LineString(track, srid=4326), srid=4326) if track else None,
    )
    TrackSegment.objects.create(
        leg_day=legday,
        area=area,
        distance_km=km,
        field_hours=field_hours,
        patrol_hours=patrol_hours,
        person_days=person_days,
        has_track=km > 0,
        day=day,
    )
    for zone, zkm in (zones or {}).items():
        share = zkm / km if km else 0.0
        TrackSegment.objects.create(
            leg_day=legday,
            area=area,
            zone=zone,
            distance_km=zkm,
            field_hours=field_hours * share,
            patrol_hours=patrol_hours * share,
            person_days=person_days * share,
            day=day,
        )
    return legday


def observation(
    area: ProtectedArea,
    day: date,
    category: str | None = None,
    count: float | None = None,
    taxon: str | None = None,
    individuals: int | None = None,
    zone: Zone | None = None,
    point: tuple[float, float] | None = None,
    occurrence: bool = True,
    sub: Submission | None = None,
) -> Observation:
    category = category or ("animals.live" if taxon else "human_activity.weapons.snare")
    vertical = "biodiversity" if taxon else ("illicit" if category.startswith("human_activity") else "other")
    obs = Observation.objects.create(
        area=area,
        zone=zone,
        day=day,
        category_id=category,
        vertical=vertical,
        count=count,
        location=Point(*point, srid=4326) if point else None,
        **_record(sub),
    )
    ObservationPlace.objects.create(observation=obs, area=area, day=day)
    if zone is not None:
        ObservationPlace.objects.create(observation=obs, area=area, zone=zone, day=day)
    if taxon:
        SpeciesObservation.objects.create(
            observation=obs,
            taxon=Taxon.objects.get(slug=taxon),
            individual_count=individuals,
            is_occurrence=occurrence,
        )
    return obs


def resource_use(
    area: ProtectedArea,
    day: date,
    kind: str = "timber",
    quantity: float | None = None,
    unit: str = "",
    permitted: bool | None = None,
    purpose: str = "",
    users: str = "",
    zone: Zone | None = None,
    sub: Submission | None = None,
) -> Observation:
    """A record of resource use (a human-activity observation with its ResourceUse)."""
    obs = observation(area, day, category="human_activity.camp", zone=zone, sub=sub)
    Observation.objects.filter(pk=obs.pk).update(vertical="resource_use")
    ResourceUse.objects.create(
        observation=obs,
        kind=kind,
        quantity=quantity,
        unit=unit,
        permitted=permitted,
        purpose=purpose,
        users=users,
    )
    return obs
