"""Writing field records: the transactional verbs of observations.

`record_submission(submission, xml)` is the processor odk_forms runs (setting
ODK_FORMS_SUBMISSION_PROCESSORS) once a stored submission is processed, after the phone got
its answer, inside the processing transaction. It writes what the form's mapping reads from
the instance (observations.ingest) over the records of the submission's root: a record
whose `record_uuid` is already there is updated in place (its primary key stays), a new
one is created, and one whose repeat disappeared in an edit is deleted. What is derived
from records (QA flags, track segments, observation places, detail rows) is written anew.

Record identity (`record_uuid`): the answer a form maps to `record.uuid` in the record's
group or repeat (the standard forms put a calculate `once(uuid())` in every repeat, which
keeps its value through edits, whatever the order of the repeats); without one, uuid5 of
the root instanceID and the record's instance path. That fallback is stable across
reprocessing and edits that keep the repeats in place, but a repeat removed on the phone
renumbers the ones after it, which then take each other's ids: forms should name one.
Root records (a patrol, a METT, a budget return, an incident report) need none: the root
instanceID is the same in every edit.

Local time: a patrol's days are cut at midnight in its area's timezone, or, where no area
is known before the days exist and the form's areas span several timezones, in the UTC
offset the phone wrote on the leg's start (ODK dateTimes carry it). An observation's `day`
is its time in its primary area's timezone, or in the phone's offset when it has no area.

Spatial work happens in the database, through observations.queries: observations belong to
every area and zone containing them by point-in-polygon (ObservationPlace; the smallest
area is the primary one), and tracks are clipped to areas and zones with ST_Intersection
and a geodesic length, effort apportioned by distance (TrackSegment).
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.gis.geos import LineString, MultiLineString, Point
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Exists, F, Q

from fieldkit import errors, events
from observations import days as days_
from observations import form_check, ingest, queries
from observations.days import DayPlan
from observations.ingest import Flag, MappedSubmission, ObservationInput, PatrolInput
from observations.models import (
    AgencyFiscalYear,
    BudgetLine,
    BudgetReturn,
    IllicitAction,
    IllicitActivity,
    METTAssessment,
    METTScore,
    Observation,
    ObservationPlace,
    Patrol,
    PatrolLeg,
    PatrolLegDay,
    QAFlag,
    ResourceUse,
    SeizedItem,
    SpeciesObservation,
    TrackSegment,
    Transport,
)
from odk_forms import queries as odk_queries
from odk_forms.models import Submission
from protected_areas.models import ProtectedArea

logger = logging.getLogger(__name__)

# Average speeds over a day beyond these are not a patrol but a GPS or clock error (km/h);
# "" is a leg whose transport is not known.
MAX_SPEED_KMH: dict[str, float] = {
    Transport.FOOT: 15.0,
    Transport.VEHICLE: 120.0,
    Transport.MOTORBIKE: 120.0,
    Transport.BOAT: 80.0,
    Transport.AIR: 400.0,
    "": 15.0,
}


# --- Recording a submission ------------------------------------------------------------------

# Namespace of the uuids derived for records whose form names none (and of the migration
# that gave records made before record_uuid theirs: observations/migrations/0004).
RECORD_NAMESPACE = uuid.UUID("5d1f0a4e-7c1b-4f43-9a44-2f0e6c7b9d10")


def derived_uuid(root_instance_id: str, path: str) -> uuid.UUID:
    """The uuid of a record whose form names none: the root instanceID and instance path."""
    return uuid.uuid5(RECORD_NAMESPACE, f"{root_instance_id}#{path}")


def record_submission(submission: Submission, xml: bytes) -> None:
    """Write the records the submission's instance maps to over those of its root."""
    mapping = form_check.form_mapping(submission.form_version)
    if mapping.is_empty or submission.is_draft:
        # Drafts are form tests: their records would count in indicators.
        return
    if not submission.is_current:
        # A later edit owns the record; reprocessing this version must not bring it back.
        return
    mapped = ingest.map_instance(mapping, xml, submission.received_at)
    with transaction.atomic():
        if mapped.is_empty:
            delete_records(submission.root_id or submission.pk)
        else:
            _Writer(submission).write(mapped)


_ROOT_TABLES = (Observation, Patrol, METTAssessment, BudgetReturn)


def delete_records(root_submission_id: int) -> None:
    """Every record made from any version of one submission."""
    QAFlag.objects.filter(root_submission_id=root_submission_id).delete()
    if not _has_records(root_submission_id):
        return
    for table in _ROOT_TABLES:
        table.objects.filter(root_submission_id=root_submission_id).delete()


def _has_records(root_submission_id: int, or_flags: bool = False) -> bool:
    # One query to learn there is nothing there (the usual first processing), rather than
    # a query per table; `or_flags`: QA flags count too.
    exists = Q()
    for table in (*_ROOT_TABLES, QAFlag) if or_flags else _ROOT_TABLES:
        exists |= Q(Exists(table.objects.filter(root_submission_id=root_submission_id)))
    return Submission.objects.filter(exists, pk=root_submission_id).exists()


class _Existing:
    """The records a root already has, by uuid: what an update finds again."""

    def __init__(self, root_id: int, any_records: bool) -> None:
        self.any = any_records
        self.by_table: dict[type, dict[uuid.UUID, int]] = {}
        if any_records:
            for table in _ROOT_TABLES:
                self.by_table[table] = dict(
                    table.objects.filter(root_submission_id=root_id).values_list("record_uuid", "pk")
                )

    def take(self, table: type, key: uuid.UUID) -> int | None:
        """The pk of the record with this uuid, if there is one (then no longer stale)."""
        return self.by_table.get(table, {}).pop(key, None)

    def delete_stale(self) -> None:
        """Records whose repeat (or whole record) is gone from this version."""
        for table in _ROOT_TABLES:
            stale = list(self.by_table.get(table, {}).values())
            if stale:
                table.objects.filter(pk__in=stale).delete()


class _Writer:
    def __init__(self, submission: Submission) -> None:
        self.submission = submission
        self.root_id = submission.root_id or submission.pk
        root = submission.root if submission.root_id else submission
        self.root_instance_id = (root or submission).instance_id
        self.flags: list[QAFlag] = []
        # The form's areas, read once per submission (without their boundaries): the
        # default area, the timezones days are cut in, the fiscal year of a budget.
        self.form_areas = queries.form_areas(submission.form_id)
        # Records go only to areas where the submitter may send data through this form
        # (odk_forms.queries.placeable_area_ids); None: anywhere (a superuser).
        self.placeable: frozenset[int] | None = odk_queries.placeable_area_ids(
            submission.submitted_by, submission.form_id, frozenset(a.pk for a in self.form_areas)
        )
        self.track_crosses_forbidden = False
        self.existing = _Existing(self.root_id, False)

    def uuid_of(self, given: uuid.UUID | None, path: str) -> uuid.UUID:
        return given or derived_uuid(self.root_instance_id, path)

    def common(self, path: str, given: uuid.UUID | None) -> dict[str, Any]:
        return {
            "submission": self.submission,
            "root_submission_id": self.root_id,
            "form_version_id": self.submission.form_version_id,
            "instance_path": path[:255],
            "record_uuid": self.uuid_of(given, path),
        }

    def flag(self, flag: Flag, **target: Any) -> None:
        self.flags.append(
            QAFlag(
                submission=self.submission,
                root_submission_id=self.root_id,
                code=flag.code,
                detail=flag.detail,
                instance_path=flag.path[:255],
                **target,
            )
        )

    def write(self, mapped: MappedSubmission) -> None:
        found = _has_records(self.root_id, or_flags=True)
        if found:
            QAFlag.objects.filter(root_submission_id=self.root_id).delete()
        self.existing = _Existing(self.root_id, found)
        patrol: Patrol | None = None
        days: list[tuple[PatrolLegDay, DayPlan]] = []
        if mapped.patrol is not None:
            patrol, days = self.write_patrol(mapped.patrol, mapped.observations)
        if mapped.observations:
            self.write_observations(mapped.observations, patrol, days)
        if patrol is not None and patrol.area_id is None:
            if mapped.patrol is not None and len(mapped.patrol.track_points()) >= 2:
                if not self.track_crosses_forbidden:
                    detail = "the track crosses no protected area"
                    self.flag(Flag("outside_areas", detail, mapped.patrol.path), patrol=patrol)
            else:
                self.patrol_area_from_observations(patrol)
        if patrol is not None:
            self.keep_trackless_effort(patrol, [d for d, _ in days])
        if mapped.mett is not None:
            self.write_mett(mapped.mett)
        if mapped.budget is not None:
            self.write_budget(mapped.budget)
        self.existing.delete_stale()
        QAFlag.objects.bulk_create(self.flags)

    # --- areas ---

    def form_area(self) -> ProtectedArea | None:
        """The form's area when it has exactly one: the default for records naming none."""
        return self.form_areas[0] if len(self.form_areas) == 1 else None

    def default_area(self) -> ProtectedArea | None:
        """The form's only area, if the submitter may place records there."""
        area = self.form_area()
        return area if area is not None and self.may_place(area.pk) else None

    def may_place(self, area_id: int) -> bool:
        return self.placeable is None or area_id in self.placeable

    def form_timezones(self) -> set[str]:
        return {a.timezone for a in self.form_areas}

    def resolve_area(self, ref: str, target: str) -> ProtectedArea:
        """The area an answer names, which must be one where the submitter may send data:
        otherwise anyone could write records (a budget, a METT score, an incident) for any
        area by typing its id. A refusal fails the submission, kept and visible with the
        reason, to be processed again once the submitter has the right."""
        ref = ref.strip()
        area = queries.area_by_code(ref)
        if area is None:
            raise errors.INGEST_UNKNOWN_AREA(target=target, value=ref)
        self.check_placeable(area, target, ref)
        return area

    def check_placeable(self, area: ProtectedArea, target: str, value: str) -> None:
        if not self.may_place(area.pk):
            raise errors.INGEST_AREA_NOT_PERMITTED(
                target=target, value=value, area=area.name, user=self.submitter_name()
            )

    def submitter_name(self) -> str:
        user = self.submission.submitted_by
        return user.get_username() if user is not None else "the sender"

    def required_area(self, ref: str, record: str, target: str) -> ProtectedArea:
        if ref:
            return self.resolve_area(ref, target)
        area = self.form_area()
        if area is None:
            raise errors.INGEST_NO_AREA(record=record, target=target)
        self.check_placeable(area, target, "")
        return area

    # --- patrols ---

    def write_patrol(
        self, data: PatrolInput, observations: list[ObservationInput]
    ) -> tuple[Patrol, list[tuple[PatrolLegDay, DayPlan]]]:
        area = self.resolve_area(data.area_ref, "patrol.area") if data.area_ref else None
        # Days are cut at midnight where the patrol is. The form's areas usually share one
        # timezone (one agency, one country); only when they do not is the track's area
        # looked up before the days exist, and without a track the phone's UTC offset is
        # the local calendar. Otherwise the area follows from the clipped track.
        zones = self.form_timezones()
        if area is None and len(zones) != 1:
            points = data.track_points()
            if len(points) >= 2:
                area = queries.longest_stretch_area(self.placeable, track=LineString(points, srid=4326))
        known: tzinfo | None = None
        if area is not None:
            known = _timezone(area)
        elif len(zones) == 1:
            known = _zoneinfo(zones.pop())
        fallback = self._fallback_day(observations)
        times = [o.time for o in observations if o.time is not None and o.in_patrol]

        plans = [
            days_.plan_leg_days(leg_data, known or _offset_zone(leg_data.utc_offset), fallback, times)
            for leg_data in data.legs
        ]
        starts = [p.start for leg_plans in plans for p in leg_plans if p.start]
        ends = [p.end for leg_plans in plans for p in leg_plans if p.end]
        fields = dict(
            self.common(data.path, data.uuid),
            area=area,
            patrol_id=data.patrol_id[:64],
            station=data.station[:128],
            team=data.team[:128],
            objective=data.objective,
            armed=data.armed,
            notes=data.notes,
            start=min(starts) if starts else None,
            end=max(ends) if ends else None,
        )
        pk = self.existing.take(Patrol, fields["record_uuid"])
        if pk is None:
            patrol = Patrol.objects.create(**fields)
            old_legs: dict[uuid.UUID, int] = {}
            old_days: dict[uuid.UUID, int] = {}
        else:
            Patrol.objects.filter(pk=pk).update(**fields)
            patrol = Patrol(pk=pk, **fields)
            old_legs = dict(PatrolLeg.objects.filter(patrol_id=pk).values_list("record_uuid", "pk"))
            old_days = dict(PatrolLegDay.objects.filter(patrol_id=pk).values_list("record_uuid", "pk"))
            TrackSegment.objects.filter(leg_day__patrol_id=pk).delete()
            if old_legs:
                # Numbers are unique per patrol: free them before legs are renumbered.
                PatrolLeg.objects.filter(patrol_id=pk).update(number=F("number") + 10000)
        for f in data.flags:
            self.flag(f, patrol=patrol)

        days: list[tuple[PatrolLegDay, DayPlan]] = []
        new_days: list[PatrolLegDay] = []
        for number, (leg_data, leg_plans) in enumerate(zip(data.legs, plans, strict=True), start=1):
            leg_uuid = leg_data.uuid or uuid.uuid5(patrol.record_uuid, f"leg#{leg_data.path}#{number}")
            leg_fields = dict(
                number=number,
                transport=leg_data.transport,
                mandate=leg_data.mandate[:64],
                leader=leg_data.leader[:128],
                members=leg_data.members,
                member_count=leg_data.people,
                record_uuid=leg_uuid,
            )
            leg_pk = old_legs.pop(leg_uuid, None)
            if leg_pk is None:
                leg = PatrolLeg.objects.create(patrol=patrol, **leg_fields)
            else:
                PatrolLeg.objects.filter(pk=leg_pk).update(**leg_fields)
                leg = PatrolLeg(pk=leg_pk, patrol=patrol, **leg_fields)
            for plan in leg_plans:
                day_uuid = plan.uuid or uuid.uuid5(leg_uuid, f"day#{plan.path}#{plan.day.isoformat()}")
                day_fields = dict(
                    day=plan.day,
                    start=plan.start,
                    end=plan.end,
                    rest_minutes=plan.rest_minutes,
                    track=_multiline(plan.track),
                    distance_km=0.0,
                    patrol_hours=plan.patrol_hours,
                    field_hours=plan.field_hours,
                    members=leg.member_count,
                    person_days=float(leg.member_count),
                    record_uuid=day_uuid,
                )
                day_pk = old_days.pop(day_uuid, None)
                if day_pk is None:
                    day = PatrolLegDay(leg=leg, patrol=patrol, **day_fields)
                    new_days.append(day)
                else:
                    PatrolLegDay.objects.filter(pk=day_pk).update(leg=leg, **day_fields)
                    day = PatrolLegDay(pk=day_pk, leg=leg, patrol=patrol, **day_fields)
                days.append((day, plan))
        PatrolLegDay.objects.bulk_create(new_days)
        if old_days:
            PatrolLegDay.objects.filter(pk__in=list(old_days.values())).delete()
        if old_legs:
            PatrolLeg.objects.filter(pk__in=list(old_legs.values())).delete()
        for day, plan in days:
            for f in plan.flags:
                self.flag(f, patrol=patrol, leg_day=day)

        measured = queries.measure_tracks(patrol.pk, self.placeable)
        for day, _ in days:
            day.distance_km = measured.get(day.pk, day.distance_km)
        self.flag_forbidden_track(patrol, [d for d, _ in days], data.path)
        if patrol.area_id is None:
            longest = queries.longest_stretch_area(self.placeable, patrol_id=patrol.pk)
            if longest is not None:
                patrol.area = longest
                Patrol.objects.filter(pk=patrol.pk).update(area=longest)
        self.flag_speeds(patrol, [d for d, _ in days])
        return patrol, days

    def keep_trackless_effort(self, patrol: Patrol, days: list[PatrolLegDay]) -> None:
        """A leg-day without a track has no distance to share its effort by: all of it stays
        on the patrol's area (TrackSegment with has_track False; the day is flagged no_track)."""
        if patrol.area_id is None:
            return
        TrackSegment.objects.bulk_create(
            TrackSegment(
                leg_day=day,
                area_id=patrol.area_id,
                zone=None,
                distance_km=0.0,
                patrol_hours=day.patrol_hours,
                field_hours=day.field_hours,
                person_days=day.person_days,
                has_track=False,
                day=day.day,
            )
            for day in days
            if day.track is None
        )

    def _fallback_day(self, observations: list[ObservationInput]) -> date:
        times = [o.time for o in observations if o.time]
        return (min(times) if times else self.submission.received_at).date()

    def flag_forbidden_track(self, patrol: Patrol, days: list[PatrolLegDay], path: str) -> None:
        """Say so when the tracks cross areas where the submitter may not send data: those
        stretches count in no area's effort."""
        if self.placeable is None:
            return
        lines = [line for day in days if day.track is not None for line in day.track]
        if not lines:
            return
        names = queries.names_of_areas_crossed(MultiLineString(lines, srid=4326), self.placeable)
        if names:
            self.track_crosses_forbidden = True
            detail = (
                f"the track crosses {', '.join(names)}, where {self.submitter_name()} may not send "
                "data: that part of it counts in no area"
            )
            self.flag(Flag("area_not_permitted", detail, path), patrol=patrol)

    def flag_speeds(self, patrol: Patrol, days: list[PatrolLegDay]) -> None:
        """Leg-days faster over the day than their transport allows (MAX_SPEED_KMH)."""
        for leg_day in days:
            if not leg_day.field_hours or leg_day.field_hours <= 0:
                continue
            transport = leg_day.leg.transport
            max_speed = MAX_SPEED_KMH.get(transport, MAX_SPEED_KMH[""])
            speed = leg_day.distance_km / leg_day.field_hours
            if speed <= max_speed:
                continue
            pk, day = leg_day.pk, leg_day.day
            detail = (
                f"{day}: {speed:.1f} km/h over the day, above {max_speed:g} km/h for {transport or 'foot'}"
            )
            self.flag(Flag("impossible_speed", detail), patrol=patrol, leg_day_id=pk)

    def patrol_area_from_observations(self, patrol: Patrol) -> None:
        """A patrol without a usable track is placed by its observations, or its form."""
        first = queries.first_observation_area(patrol.pk)
        form_area = self.default_area()
        area_id = first or (form_area.pk if form_area else None)
        if area_id is None:
            self.flag(
                Flag("outside_areas", "neither the track nor any observation is in a protected area"),
                patrol=patrol,
            )
            return
        patrol.area_id = area_id
        patrol.save(update_fields=["area"])

    # --- observations ---

    def observation_zone(self, patrol: Patrol | None) -> tzinfo | None:
        """The timezone an observation's day is first taken in: its patrol's area's, or
        the form's when its areas share one; None: the phone's offset."""
        if patrol is not None and patrol.area_id is not None and patrol.area is not None:
            return _timezone(patrol.area)
        zones = self.form_timezones()
        return _zoneinfo(zones.pop()) if len(zones) == 1 else None

    def write_observations(
        self, items: list[ObservationInput], patrol: Patrol | None, days: list[tuple[PatrolLegDay, DayPlan]]
    ) -> None:
        rows: list[Observation] = []
        by_path = {plan.path: day for day, plan in days if plan.path}
        zone = self.observation_zone(patrol)
        seen: set[uuid.UUID] = set()
        for item in items:
            if item.uuid is not None and item.uuid in seen:
                # A repeat copied with its uuid: the copy gets a derived one.
                item.flags.append(Flag("bad_value", f"record.uuid {item.uuid} is used twice", item.path))
                item.uuid = None
            if item.uuid is not None:
                seen.add(item.uuid)
            leg_day = by_path.get(item.day_path) if item.day_path else None
            if patrol is not None and leg_day is None and item.time is not None and days:
                leg_day, inside = _day_of(item.time, [d for d, _ in days])
                if not inside:
                    item.flags.append(
                        Flag(
                            "outside_patrol_time",
                            f"{item.time.isoformat()} is outside the patrol's days",
                            item.path,
                        )
                    )
            location = None
            if item.location is not None:
                location = Point(item.location.lon, item.location.lat, srid=4326)
            day = None
            if item.time is not None:
                day = item.time.astimezone(zone or _offset_zone(item.utc_offset)).date()
            rows.append(
                Observation(
                    **self.common(item.path, item.uuid),
                    patrol=patrol if item.in_patrol else None,
                    leg_day=leg_day,
                    location=location,
                    accuracy_m=item.location.accuracy if item.location else None,
                    time=item.time,
                    day=day,
                    category_id=item.category,
                    vertical=item.vertical,
                    count=item.count,
                    notes=item.notes,
                    observer=item.observer[:128],
                    photos=item.photos,
                )
            )
        self.save_observations(rows)
        self.write_details(items, rows)
        self.assign_places(items, rows, patrol, fixed_zone=zone is not None)
        for item, row in zip(items, rows, strict=True):
            for f in item.flags:
                self.flag(f, observation=row)

    def save_observations(self, rows: list[Observation]) -> None:
        """Create the new ones, update in place those already recorded (same uuid)."""
        new, old = [], []
        for row in rows:
            pk = self.existing.take(Observation, row.record_uuid)
            if pk is None:
                new.append(row)
            else:
                row.pk = pk
                old.append(row)
        Observation.objects.bulk_create(new)
        events.publish("record", "created", [row.record_uuid for row in new])
        events.publish("record", "edited", [row.record_uuid for row in old])
        if old:
            fields = [
                "submission", "form_version", "instance_path", "patrol", "leg_day", "location",
                "accuracy_m", "time", "day", "category", "vertical", "count", "notes", "observer",
                "photos", "area", "zone",
            ]  # fmt: skip
            for row in old:
                row.area = row.zone = None
            _update_rows(Observation, old, fields)
            ids = [row.pk for row in old]
            # Details and places are derived from the answers: written anew.
            IllicitActivity.objects.filter(observation_id__in=ids).delete()
            ResourceUse.objects.filter(observation_id__in=ids).delete()
            SpeciesObservation.objects.filter(observation_id__in=ids).delete()
            ObservationPlace.objects.filter(observation_id__in=ids).delete()

    def write_details(self, items: list[ObservationInput], rows: list[Observation]) -> None:
        taxa = queries.taxa_by_name(o.species["taxon"] for o in items if o.species and o.species["taxon"])
        illicit, resources, species = [], [], []
        actions: list[IllicitAction] = []
        seized: list[SeizedItem] = []
        for item, row in zip(items, rows, strict=True):
            if item.illicit is not None:
                activity = IllicitActivity(observation=row, **item.illicit)
                illicit.append(activity)
                actions += [IllicitAction(illicit=activity, action=a) for a in item.actions]
                seized += [
                    SeizedItem(
                        illicit=activity,
                        kind=s.kind,
                        quantity=s.quantity,
                        unit=s.unit,
                        destroyed=s.destroyed,
                        description=s.description,
                        record_uuid=s.uuid or uuid.uuid5(row.record_uuid, f"seized#{s.path}#{n}"),
                    )
                    for n, s in enumerate(item.seized)
                ]
            if item.resource is not None:
                resources.append(ResourceUse(observation=row, **item.resource))
            if item.species is not None:
                values = dict(item.species)
                name = str(values.pop("taxon"))
                taxon = taxa.get(name.lower()) if name else None
                if name and taxon is None:
                    item.flags.append(
                        Flag("unknown_taxon", f"{name!r} is not in the species list", item.path)
                    )
                species.append(
                    SpeciesObservation(observation=row, taxon=taxon, taxon_name=name[:255], **values)
                )
        IllicitActivity.objects.bulk_create(illicit)
        IllicitAction.objects.bulk_create(actions)
        SeizedItem.objects.bulk_create(seized)
        ResourceUse.objects.bulk_create(resources)
        SpeciesObservation.objects.bulk_create(species)

    def assign_places(
        self, items: list[ObservationInput], rows: list[Observation], patrol: Patrol | None, fixed_zone: bool
    ) -> None:
        """Every area and zone holding each located observation, by point-in-polygon in the
        database (ObservationPlace), the smallest area being its primary one and the
        smallest zone of that area its zone; the others take the area they name, their
        patrol's or their form's. Only areas where the submitter may send data are
        candidates: a point in any other is flagged and left without an area."""
        outside, forbidden = queries.place_observations(self.submission.pk, self.placeable)
        default_area = patrol.area if patrol is not None and patrol.area_id else self.default_area()
        unlocated: list[ObservationPlace] = []
        by_area: dict[int, list[int]] = {}
        for item, row in zip(items, rows, strict=True):
            if row.pk in forbidden:
                lon, lat = row.location.coords if row.location else (None, None)
                detail = (
                    f"{lat} {lon} is in {forbidden[row.pk]}, where {self.submitter_name()} may not "
                    "send data: not placed in any area"
                )
                item.flags.append(Flag("area_not_permitted", detail, item.path))
            elif row.pk in outside:
                lon, lat = row.location.coords if row.location else (None, None)
                item.flags.append(
                    Flag("outside_areas", f"{lat} {lon} is outside every protected area", item.path)
                )
            elif row.location is None:
                area = self.resolve_area(item.area_ref, "observation.area") if item.area_ref else default_area
                if area is not None:
                    by_area.setdefault(area.pk, []).append(row.pk)
                    unlocated.append(ObservationPlace(observation=row, area=area, day=row.day))
        for area_id, ids in by_area.items():
            Observation.objects.filter(pk__in=ids).update(area=area_id)
        ObservationPlace.objects.bulk_create(unlocated)
        if not fixed_zone:
            # Days were taken in the phone's offset: the area's timezone wins where known.
            queries.localise_observation_days(self.submission.pk)

    # --- METT and budgets ---

    def write_mett(self, data: ingest.METTInput) -> None:
        area = self.required_area(data.area_ref, "METT assessment", "mett.area")
        if data.year is None:
            raise errors.INGEST_MISSING_VALUE(record="METT assessment", target="mett.year")
        total, maximum, answered = data.totals()
        fields = dict(
            self.common(data.path, data.uuid),
            area=area,
            year=data.year,
            version=data.version,
            assessed_on=data.assessed_on,
            assessors=data.assessors,
            notes=data.notes,
            score_total=total,
            score_max=maximum,
            questions_answered=answered,
        )
        pk = self.existing.take(METTAssessment, fields["record_uuid"])
        # One assessment per area and year (mett_one_per_area_year): the constraint finds
        # another submission's, rather than a look-up before every write.
        assessment, holder = _write_once(METTAssessment, pk, fields, area=area, year=data.year)
        if holder is not None:
            raise errors.INGEST_DUPLICATE_ASSESSMENT(area=area.name, year=data.year, existing=holder)
        if pk is not None:
            METTScore.objects.filter(assessment_id=pk).delete()
        METTScore.objects.bulk_create(
            METTScore(
                assessment=assessment,
                question=s.question,
                element=s.elements[0],
                second_element=s.elements[1] if len(s.elements) > 1 else "",
                is_bonus=s.is_bonus,
                score=s.score,
                comment=s.comment,
                next_steps=s.next_steps,
            )
            for s in data.scores
        )
        for f in data.flags:
            self.flag(f)

    def write_budget(self, data: ingest.BudgetInput) -> None:
        area = self.required_area(data.area_ref, "budget return", "budget.area")
        if data.fiscal_year is None:
            raise errors.INGEST_MISSING_VALUE(record="budget return", target="budget.fiscal_year")
        fields = dict(
            self.common(data.path, data.uuid),
            area=area,
            fiscal_year=data.fiscal_year,
            fiscal_year_start=fiscal_year_start(area, data.fiscal_year),
            currency=data.currency,
            staff_count=data.staff_count,
            ranger_count=data.ranger_count,
            need_basic=data.need_basic,
            need_optimal=data.need_optimal,
            notes=data.notes,
        )
        pk = self.existing.take(BudgetReturn, fields["record_uuid"])
        # One return per area and fiscal year (budget_one_per_area_year), as for METT.
        budget, holder = _write_once(BudgetReturn, pk, fields, area=area, fiscal_year=data.fiscal_year)
        if holder is not None:
            raise errors.INGEST_DUPLICATE_BUDGET(area=area.name, year=data.fiscal_year, existing=holder)
        if pk is not None:
            BudgetLine.objects.filter(budget_id=pk).delete()
        BudgetLine.objects.bulk_create(
            BudgetLine(budget=budget, kind=kind, category=category, planned=planned, actual=actual)
            for (kind, category), (planned, actual) in data.lines.items()
        )
        for f in data.flags:
            self.flag(f)


def fiscal_year_start(area: ProtectedArea, fiscal_year: int) -> date:
    """First day of `fiscal_year` for the area's agency (AgencyFiscalYear; January where the
    agency has none). A fiscal year is named by the calendar year it starts in. An area
    read by observations.queries.recording_areas brings its agency's month along."""
    if hasattr(area, "fiscal_start_month"):
        month = area.fiscal_start_month
    elif area.management_authority:
        month = (
            AgencyFiscalYear.objects.filter(agency=area.management_authority)
            .values_list("start_month", flat=True)
            .first()
        )
    else:
        month = None
    return date(fiscal_year, month or 1, 1)


# The records one area may have only one of per year (mett_one_per_area_year,
# budget_one_per_area_year).
OnePerYear = TypeVar("OnePerYear", METTAssessment, BudgetReturn)


def _write_once(
    table: type[OnePerYear], pk: int | None, fields: dict[str, Any], **unique: Any
) -> tuple[OnePerYear, str | None]:
    """Create (or, with `pk`, update) the one `table` record of an area and year, in a
    savepoint. When the area-and-year constraint refuses it, the savepoint is rolled back
    and the instanceID of the submission holding that area and year comes back instead of
    None. Any other integrity error goes on."""
    try:
        with transaction.atomic():
            if pk is None:
                return table.objects.create(**fields), None
            table.objects.filter(pk=pk).update(**fields)
            return table(pk=pk, **fields), None
    except IntegrityError:
        holder = table.objects.filter(**unique).values_list("root_submission__instance_id", flat=True).first()
        if holder is None:
            raise
        return table(pk=pk, **fields), holder


# --- Helpers ---------------------------------------------------------------------------------


def _update_rows(model: type[models.Model], rows: list[Any], names: list[str]) -> None:
    """UPDATE each row's `names` columns by primary key in one executemany: what
    QuerySet.bulk_update does, without building a CASE expression per field and row (ten
    times the cost for the few dozen rows of a submission)."""
    fields: list[Any] = [model._meta.get_field(name) for name in names]
    columns = ", ".join(f"{connection.ops.quote_name(f.column)} = {_placeholder(f)}" for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(str(model._meta.pk.column))  # type: ignore[union-attr]
    params = [
        [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields] + [row.pk] for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {columns} WHERE {pk} = %s", params)  # noqa: S608


def _placeholder(field: Any) -> str:
    if hasattr(field, "geom_type"):
        ops: Any = connection.ops
        return str(ops.get_geom_placeholder(field, None, None))
    return "%s"


def _multiline(parts: list[list[tuple[float, float]]] | None) -> MultiLineString | None:
    if not parts:
        return None
    return MultiLineString([LineString(p, srid=4326) for p in parts], srid=4326)


def _timezone(area: ProtectedArea | None) -> ZoneInfo:
    return _zoneinfo(area.timezone if area is not None else "")


def _offset_zone(offset: timedelta | None) -> tzinfo:
    """The phone's local time as a fixed-offset zone (UTC when it wrote none)."""
    return timezone(offset) if offset is not None else ZoneInfo("UTC")


def _zoneinfo(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _day_of(moment: datetime, days: list[PatrolLegDay]) -> tuple[PatrolLegDay, bool]:
    """The leg-day whose span holds `moment`; else the nearest one (and False)."""
    for day in days:
        if day.start and day.end and day.start <= moment <= day.end:
            return day, True

    def gap(day: PatrolLegDay) -> float:
        edges = [t for t in (day.start, day.end) if t]
        return min(abs((moment - t).total_seconds()) for t in edges) if edges else float("inf")

    return min(days, key=gap), False
