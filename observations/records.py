"""Writing field records: the transactional verbs of observations.

`record_submission(submission, xml)` is the processor odk_forms runs (setting
ODK_FORMS_SUBMISSION_PROCESSORS) once a stored submission is processed, after the phone got
its answer, inside the processing transaction. It replaces every record of the submission's
root (an edit replaces the records of the version it deprecates; a re-run replaces its own)
and then writes what the form's mapping reads from the instance (observations.ingest).
Spatial work happens in the database, through observations.queries: observations get their
area and zone by point-in-polygon, and tracks are clipped to areas and zones with
ST_Intersection and a geodesic length.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.gis.geos import LineString, MultiLineString, Point
from django.db import transaction
from django.db.models import Exists, Q

from fieldkit import errors
from observations import days as days_
from observations import form_check, ingest, queries
from observations.days import DayPlan
from observations.ingest import Flag, MappedSubmission, ObservationInput, PatrolInput
from observations.models import (
    BudgetLine,
    BudgetReturn,
    IllicitActivity,
    METTAssessment,
    METTScore,
    Observation,
    Patrol,
    PatrolLeg,
    PatrolLegDay,
    QAFlag,
    ResourceUse,
    SpeciesObservation,
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


def record_submission(submission: Submission, xml: bytes) -> None:
    """Replace the records of the submission's root with those its instance maps to."""
    mapping = form_check.form_mapping(submission.form_version)
    if mapping.is_empty or submission.is_draft:
        # Drafts are form tests: their records would count in indicators.
        return
    if not submission.is_current:
        # A later edit owns the record; reprocessing this version must not bring it back.
        return
    mapped = ingest.map_instance(mapping, xml, submission.received_at)
    with transaction.atomic():
        delete_records(submission.root_id or submission.pk)
        if not mapped.is_empty:
            _Writer(submission).write(mapped)


def delete_records(root_submission_id: int) -> None:
    """Every record made from any version of one submission."""
    QAFlag.objects.filter(root_submission_id=root_submission_id).delete()
    # One query to learn there is nothing to delete (the usual first processing), rather
    # than a cascade collection per table.
    tables = (Observation, Patrol, METTAssessment, BudgetReturn)
    exists = Q()
    for table in tables:
        exists |= Q(Exists(table.objects.filter(root_submission_id=root_submission_id)))
    if not Submission.objects.filter(exists, pk=root_submission_id).exists():
        return
    Observation.objects.filter(root_submission_id=root_submission_id).delete()
    Patrol.objects.filter(root_submission_id=root_submission_id).delete()
    METTAssessment.objects.filter(root_submission_id=root_submission_id).delete()
    BudgetReturn.objects.filter(root_submission_id=root_submission_id).delete()


class _Writer:
    def __init__(self, submission: Submission) -> None:
        self.submission = submission
        self.root_id = submission.root_id or submission.pk
        self.flags: list[QAFlag] = []
        self._form_areas: list[ProtectedArea] | None = None
        # Records go only to areas where the submitter may send data through this form
        # (odk_forms.queries.placeable_area_ids); None: anywhere (a superuser).
        self.placeable: frozenset[int] | None = odk_queries.placeable_area_ids(
            submission.submitted_by, submission.form
        )
        self.track_crosses_forbidden = False

    def common(self, path: str) -> dict[str, Any]:
        return {
            "submission": self.submission,
            "root_submission_id": self.root_id,
            "form_version_id": self.submission.form_version_id,
            "instance_path": path[:255],
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
        if mapped.mett is not None:
            self.write_mett(mapped.mett)
        if mapped.budget is not None:
            self.write_budget(mapped.budget)
        QAFlag.objects.bulk_create(self.flags)

    # --- areas ---

    def form_area(self) -> ProtectedArea | None:
        """The form's area when it has exactly one: the default for records naming none."""
        if self._form_areas is None:
            self._form_areas = list(self.submission.form.areas.all()[:2])
        return self._form_areas[0] if len(self._form_areas) == 1 else None

    def default_area(self) -> ProtectedArea | None:
        """The form's only area, if the submitter may place records there."""
        area = self.form_area()
        return area if area is not None and self.may_place(area.pk) else None

    def may_place(self, area_id: int) -> bool:
        return self.placeable is None or area_id in self.placeable

    def form_timezones(self) -> set[str]:
        return set(self.submission.form.areas.values_list("timezone", flat=True))

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
        # looked up before the days exist. Otherwise the area follows from the clipped track.
        zones = self.form_timezones()
        if area is None and len(zones) != 1:
            points = data.track_points()
            if len(points) >= 2:
                area = queries.longest_stretch_area(self.placeable, track=LineString(points, srid=4326))
        tz = _timezone(area) if area is not None else _zoneinfo(zones.pop() if len(zones) == 1 else "UTC")
        fallback = self._fallback_day(observations)

        plans = [days_.plan_leg_days(leg_data, tz, fallback) for leg_data in data.legs]
        starts = [p.start for leg_plans in plans for p in leg_plans if p.start]
        ends = [p.end for leg_plans in plans for p in leg_plans if p.end]
        patrol = Patrol.objects.create(
            **self.common(data.path),
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
        for f in data.flags:
            self.flag(f, patrol=patrol)

        days: list[tuple[PatrolLegDay, DayPlan]] = []
        for number, (leg_data, leg_plans) in enumerate(zip(data.legs, plans, strict=True), start=1):
            leg = PatrolLeg.objects.create(
                patrol=patrol,
                number=number,
                transport=leg_data.transport,
                mandate=leg_data.mandate[:64],
                leader=leg_data.leader[:128],
                members=leg_data.members,
                member_count=leg_data.people,
            )
            for plan in leg_plans:
                day = PatrolLegDay(
                    leg=leg,
                    patrol=patrol,
                    day=plan.day,
                    start=plan.start,
                    end=plan.end,
                    rest_minutes=plan.rest_minutes,
                    track=_multiline(plan.track),
                    patrol_hours=plan.patrol_hours,
                    field_hours=plan.field_hours,
                    members=leg.member_count,
                    person_days=float(leg.member_count),
                )
                days.append((day, plan))
        PatrolLegDay.objects.bulk_create([d for d, _ in days])
        for day, plan in days:
            for f in plan.flags:
                self.flag(f, patrol=patrol, leg_day=day)

        queries.measure_tracks(patrol.pk, self.placeable)
        self.flag_forbidden_track(patrol, [d for d, _ in days], data.path)
        if patrol.area_id is None:
            longest = queries.longest_stretch_area(self.placeable, patrol_id=patrol.pk)
            if longest is not None:
                patrol.area = longest
                Patrol.objects.filter(pk=patrol.pk).update(area=longest)
        self.flag_speeds(patrol)
        return patrol, days

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

    def flag_speeds(self, patrol: Patrol) -> None:
        for pk, speed, max_speed, transport, day in queries.days_too_fast(patrol.pk, MAX_SPEED_KMH):
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

    def write_observations(
        self, items: list[ObservationInput], patrol: Patrol | None, days: list[tuple[PatrolLegDay, DayPlan]]
    ) -> None:
        rows: list[Observation] = []
        by_path = {plan.path: day for day, plan in days if plan.path}
        for item in items:
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
            rows.append(
                Observation(
                    **self.common(item.path),
                    patrol=patrol if item.in_patrol else None,
                    leg_day=leg_day,
                    location=location,
                    accuracy_m=item.location.accuracy if item.location else None,
                    time=item.time,
                    category_id=item.category,
                    vertical=item.vertical,
                    count=item.count,
                    notes=item.notes,
                    observer=item.observer[:128],
                    photos=item.photos,
                )
            )
        Observation.objects.bulk_create(rows)
        self.write_details(items, rows)
        self.assign_places(items, rows, patrol)
        for item, row in zip(items, rows, strict=True):
            for f in item.flags:
                self.flag(f, observation=row)

    def write_details(self, items: list[ObservationInput], rows: list[Observation]) -> None:
        taxa = queries.taxa_by_name(o.species["taxon"] for o in items if o.species and o.species["taxon"])
        illicit, resources, species = [], [], []
        for item, row in zip(items, rows, strict=True):
            if item.illicit is not None:
                illicit.append(IllicitActivity(observation=row, **item.illicit))
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
        ResourceUse.objects.bulk_create(resources)
        SpeciesObservation.objects.bulk_create(species)

    def assign_places(
        self, items: list[ObservationInput], rows: list[Observation], patrol: Patrol | None
    ) -> None:
        """Area and zone of every located observation by point-in-polygon in the database
        (the smallest area or zone wins where they nest); the others take the area they
        name, their patrol's or their form's. Only areas where the submitter may send data
        are candidates: a point in any other is flagged and left without an area."""
        outside, forbidden = queries.place_observations(self.submission.pk, self.placeable)
        default_area = patrol.area if patrol is not None and patrol.area_id else self.default_area()
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
                    Observation.objects.filter(pk=row.pk).update(area=area)

    # --- METT and budgets ---

    def write_mett(self, data: ingest.METTInput) -> None:
        area = self.required_area(data.area_ref, "METT assessment", "mett.area")
        if data.year is None:
            raise errors.INGEST_MISSING_VALUE(record="METT assessment", target="mett.year")
        total, maximum, answered = data.totals()
        assessment = METTAssessment.objects.create(
            **self.common(data.path),
            area=area,
            year=data.year,
            assessed_on=data.assessed_on,
            assessors=data.assessors,
            notes=data.notes,
            score_total=total,
            score_max=maximum,
            questions_answered=answered,
        )
        METTScore.objects.bulk_create(
            METTScore(
                assessment=assessment,
                question=s.question,
                element=s.element,
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
        budget = BudgetReturn.objects.create(
            **self.common(data.path),
            area=area,
            fiscal_year=data.fiscal_year,
            currency=data.currency,
            staff_count=data.staff_count,
            ranger_count=data.ranger_count,
            need_basic=data.need_basic,
            need_optimal=data.need_optimal,
            notes=data.notes,
        )
        BudgetLine.objects.bulk_create(
            BudgetLine(budget=budget, kind=kind, category=category, amount=amount)
            for (kind, category), amount in data.lines.items()
        )
        for f in data.flags:
            self.flag(f)


# --- Helpers ---------------------------------------------------------------------------------


def _multiline(parts: list[list[tuple[float, float]]] | None) -> MultiLineString | None:
    if not parts:
        return None
    return MultiLineString([LineString(p, srid=4326) for p in parts], srid=4326)


def _timezone(area: ProtectedArea | None) -> ZoneInfo:
    return _zoneinfo(area.timezone if area is not None else "")


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
