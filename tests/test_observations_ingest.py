"""A patrol submission becomes patrols, effort and observations of the four verticals.

Run on SpatiaLite (default) and on PostGIS (DATABASE_URL=postgis://...): the numbers are
the same to the millimetre, because both measure geodesic lengths on the WGS84 ellipsoid.

Hand-checked geometry. The area is the box lon 147.30–147.42, lat −9.48…−9.38; its core
zone is lon 147.33–147.39, lat −9.455…−9.405, and a patrol sector covers its north half
(lat −9.43…−9.38). The track runs due north along lon 147.36 from −9.47 to −9.36, so every
piece of it is a meridian arc, whose length is M·Δφ with the meridional radius of
curvature M = a(1−e²)/(1−e²·sin²φ)^1.5 (a = 6 378 137 m, e² = 0.00669438):

- whole track, Δφ = 0.11°, mid-latitude 9.415°: M = 6 337 142.1 m → 12 166.44 m
- inside the area (to lat −9.38), Δφ = 0.09°, mid 9.425°: → 9 954.37 m
- inside the core zone, Δφ = 0.05°, mid 9.43°: M = 6 337 147.5 m → 5 530.20 m
- inside the patrol sector, Δφ = 0.05°, mid 9.405°: → 5 530.20 m

The patrol runs 07:00–15:30 local time (UTC+10) with 90 minutes of rest: 8.5 patrol hours,
7.0 field hours; the leader and three other members make 4 people, so 4 person-days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from accounts.models import AreaMembership, Role
from observations.models import (
    BudgetLine,
    BudgetReturn,
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
    SpeciesObservation,
    TrackSegment,
)
from odk_forms import processing
from odk_forms.models import ProcessingState
from protected_areas.models import ProtectedArea
from tests import observation_builders as ob
from tests.base import BaseTestCase
from tests.builders import make_area, make_zone
from tests.xml_builders import make_form, make_instance

TRACK = [(147.36, -9.47), (147.36, -9.36)]
KM_TRACK, KM_AREA, KM_CORE, KM_SECTOR = 12.16644, 9.95437, 5.53020, 5.53020


def obs(
    lon: float | None, lat: float | None, time: str, category: str, **values: object
) -> dict[str, object]:
    location = "" if lon is None or lat is None else ob.geopoint(lon, lat)
    return ob.observation_values(
        loc=location, when=f"2024-05-14T{time}:00.000+10:00", category=category, **values
    )


# Fourteen observations of one patrol: the four verticals, nested zones, and QA cases.
PATROL_OBSERVATIONS = [
    obs(147.35, -9.44, "07:40", "human_activity.weapons.snare", count="3", action="destroyed",
        photo="snare1.jpg"),
    obs(147.31, -9.47, "08:05", "human_activity.camp", action="arrested", suspects="2"),
    obs(147.40, -9.42, "08:30", "human_activity.gunshot"),
    obs(147.36, -9.41, "09:10", "human_activity.timber.firewood", qty="2", unit="bundles",
        purpose="subsistence", permitted="yes", users="community"),
    obs(147.32, -9.39, "09:45", "human_activity.timber.logs", qty="12", unit="logs",
        purpose="commercial", permitted="no", users="outsiders"),
    obs(147.41, -9.46, "10:20", "human_activity.clearing.garden", qty="0.5", unit="ha"),
    obs(147.34, -9.45, "11:00", "human_activity.hunting.bushmeat", qty="4", unit="kg", purpose="commercial"),
    obs(147.37, -9.43, "11:30", "animals.live", taxon="casuarius_casuarius", males="1", evidence="direct"),
    obs(147.38, -9.44, "12:15", "animals.sign.call", taxon="Dendrolagus matschiei"),
    obs(147.33, -9.40, "13:00", "animals.carcass", taxon="sus_scrofa", count="1", action="confiscated"),
    obs(147.35, -9.45, "13:40", "animals.live", taxon="Pteropus sp.", count="6"),
    obs(147.30, -9.38, "16:30", "features.boundary_marker", notes="Marker 14 knocked down"),
    obs(0.0, 0.0, "14:10", "human_activity.weapons.snare", count="1", action="destroyed"),
    obs(147.50, -9.43, "15:00", "human_activity.people", notes="Two men with dogs"),
]  # fmt: skip


class PatrolIngestTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.core = make_zone(cls.area, "core")
        cls.sector = make_zone(
            cls.area,
            "north",
            kind="patrol_sector",
            bounds=(147.30, -9.43, 147.42, -9.38),
            name="North sector",
        )
        cls.version = ob.publish(ob.patrol_form_md(), [cls.area])

    def submit_patrol(self, observations=PATROL_OBSERVATIONS, **values: object):  # type: ignore[no-untyped-def]
        values.setdefault("track", ob.geotrace(TRACK))
        xml = ob.instance_xml("fk_patrol", ob.patrol_values(**values), {"obs": list(observations)})
        return ob.submit(xml, self.collector)


class PatrolEffortTest(PatrolIngestTestCase):
    def test_it_makes_one_patrol_with_hand_checked_effort(self) -> None:
        submission = self.submit_patrol()
        self.assertEqual(submission.state, ProcessingState.PROCESSED, submission.processing_error)

        patrol = Patrol.objects.get()
        self.assertEqual(patrol.area, self.area)
        self.assertEqual(
            (patrol.patrol_id, patrol.team, patrol.armed), ("VNP-2024-017", "Varirata north", False)
        )
        self.assertEqual(patrol.start, datetime(2024, 5, 13, 21, 0, tzinfo=UTC))
        self.assertEqual(patrol.end, datetime(2024, 5, 14, 5, 30, tzinfo=UTC))
        self.assertEqual((patrol.submission, patrol.root_submission), (submission, submission))
        self.assertEqual(patrol.form_version, self.version)

        leg = PatrolLeg.objects.get()
        self.assertEqual((leg.transport, leg.mandate, leg.leader), ("foot", "law_enforcement", "Kila Oa"))
        self.assertEqual(leg.members, ["Kila Oa", "Mary Gabi", "John Vele", "Ruth Koi"])
        self.assertEqual(leg.member_count, 4)

        day = PatrolLegDay.objects.get()
        self.assertEqual(str(day.day), "2024-05-14")
        self.assertAlmostEqual(day.distance_km, KM_TRACK, places=3)
        self.assertEqual((day.patrol_hours, day.field_hours, day.rest_minutes), (8.5, 7.0, 90.0))
        self.assertEqual((day.members, day.person_days), (4, 4.0))

    def test_the_track_is_clipped_per_area_and_zone(self) -> None:
        self.submit_patrol()
        segments = {(s.area_id, s.zone_id): s.distance_km for s in TrackSegment.objects.all()}
        self.assertEqual(
            set(segments),
            {(self.area.pk, None), (self.area.pk, self.core.pk), (self.area.pk, self.sector.pk)},
        )
        self.assertAlmostEqual(segments[(self.area.pk, None)], KM_AREA, places=3)
        self.assertAlmostEqual(segments[(self.area.pk, self.core.pk)], KM_CORE, places=3)
        self.assertAlmostEqual(segments[(self.area.pk, self.sector.pk)], KM_SECTOR, places=3)

    def test_a_track_in_no_area_gives_no_segment(self) -> None:
        self.submit_patrol(observations=[], track=ob.geotrace([(148.0, -9.0), (148.1, -9.0)]))
        self.assertFalse(TrackSegment.objects.exists())
        day = PatrolLegDay.objects.get()
        self.assertGreater(day.distance_km, 10.9)


class PatrolObservationsTest(PatrolIngestTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()

    def setUp(self) -> None:
        self.submission = self.submit_patrol()
        self.assertEqual(self.submission.state, ProcessingState.PROCESSED, self.submission.processing_error)
        self.rows = list(Observation.objects.order_by("instance_path"))
        self.by_path = {o.instance_path: o for o in self.rows}

    def at(self, n: int) -> Observation:
        return self.by_path[f"obs[{n}]"]

    def test_every_observation_is_recorded(self) -> None:
        self.assertEqual(len(self.rows), 14)
        # Snares (2), camp, gunshot, people, and the carcass whose action was answered.
        self.assertEqual(IllicitActivity.objects.count(), 6)
        self.assertEqual(ResourceUse.objects.count(), 4)
        self.assertEqual(SpeciesObservation.objects.count(), 4)
        patrol = Patrol.objects.get()
        day = PatrolLegDay.objects.get()
        self.assertTrue(all(o.patrol_id == patrol.pk and o.leg_day_id == day.pk for o in self.rows))
        self.assertTrue(all(o.submission_id == self.submission.pk for o in self.rows))

    def test_observations_get_their_area_and_smallest_zone(self) -> None:
        self.assertEqual((self.at(1).area, self.at(1).zone), (self.area, self.core))
        self.assertEqual((self.at(2).area, self.at(2).zone), (self.area, None))
        self.assertEqual(self.at(3).zone, self.sector)
        # In both the core and the sector: the smaller zone wins.
        self.assertEqual(self.at(4).zone, self.core)
        self.assertEqual(self.at(5).zone, self.sector)

    def test_the_location_is_lon_lat(self) -> None:
        self.assertEqual(self.at(1).location.coords, (147.35, -9.44))
        self.assertEqual(self.at(1).accuracy_m, 5.0)

    def test_illicit_activity(self) -> None:
        snare = self.at(1)
        self.assertEqual(
            (snare.category_id, snare.vertical, snare.count), ("human_activity.weapons.snare", "illicit", 3.0)
        )
        self.assertEqual(snare.illicit.action_codes, ["destroyed"])
        self.assertEqual(snare.photos, ["snare1.jpg"])
        self.assertEqual((self.at(2).illicit.action_codes, self.at(2).illicit.suspects), (["arrested"], 2))

    def test_resource_use(self) -> None:
        firewood = self.at(4).resource_use
        self.assertEqual(
            (
                firewood.kind,
                firewood.quantity,
                firewood.unit,
                firewood.purpose,
                firewood.permitted,
                firewood.users,
            ),
            ("firewood", 2.0, "bundles", "subsistence", True, "community"),
        )
        logs = self.at(5).resource_use
        self.assertEqual(
            (logs.kind, logs.quantity, logs.permitted, logs.users), ("timber", 12.0, False, "outsiders")
        )
        self.assertEqual((self.at(6).resource_use.kind, self.at(6).resource_use.unit), ("clearing", "ha"))
        self.assertEqual(self.at(7).resource_use.kind, "bushmeat")

    def test_species(self) -> None:
        cassowary = self.at(8).species
        self.assertEqual(cassowary.taxon.scientific_name, "Casuarius casuarius")
        self.assertEqual(
            (cassowary.adult_males, cassowary.individual_count, cassowary.evidence), (1, 1, "direct")
        )
        call = self.at(9).species
        self.assertEqual((call.taxon.slug, call.evidence), ("dendrolagus_matschiei", "call"))
        carcass = self.at(10)
        self.assertEqual((carcass.species.evidence, carcass.species.individual_count), ("carcass", 1))
        self.assertEqual(carcass.illicit.action_codes, ["confiscated"])
        unknown = self.at(11).species
        self.assertEqual(
            (unknown.taxon, unknown.taxon_name, unknown.individual_count), (None, "Pteropus sp.", 6)
        )

    def test_a_feature_has_no_detail_table(self) -> None:
        marker = self.at(12)
        self.assertEqual((marker.vertical, marker.notes), ("other", "Marker 14 knocked down"))
        self.assertFalse(IllicitActivity.objects.filter(observation=marker).exists())

    def test_doubtful_records_are_kept_with_a_flag(self) -> None:
        flags = {(f.code, f.observation.instance_path if f.observation else "") for f in QAFlag.objects.all()}
        self.assertEqual(
            flags,
            {
                ("unknown_taxon", "obs[11]"),
                ("outside_patrol_time", "obs[12]"),
                ("junk_fix", "obs[13]"),
                ("outside_areas", "obs[14]"),
            },
        )
        junk = self.at(13)
        # No location, so it takes the patrol's area.
        self.assertEqual((junk.location, junk.area), (None, self.area))
        outside = self.at(14)
        self.assertEqual((outside.area, outside.location.coords), (None, (147.5, -9.43)))


class EditsAndRerunsTest(PatrolIngestTestCase):
    def snapshot(self) -> list[tuple]:
        return sorted(
            [
                *[("patrol", p.patrol_id, p.team, p.area_id, p.start, p.end) for p in Patrol.objects.all()],
                *[
                    ("day", d.day, round(d.distance_km, 6), d.field_hours, d.person_days)
                    for d in PatrolLegDay.objects.all()
                ],
                *[("seg", s.area_id, s.zone_id, round(s.distance_km, 6)) for s in TrackSegment.objects.all()],
                *[
                    (
                        "obs",
                        o.instance_path,
                        o.category_id,
                        o.area_id,
                        o.zone_id,
                        o.time,
                        o.count,
                        o.submission_id,
                    )
                    for o in Observation.objects.all()
                ],
                *[
                    ("illicit", i.observation.instance_path, i.action_codes)
                    for i in IllicitActivity.objects.all()
                ],
                *[("flag", f.code, f.instance_path) for f in QAFlag.objects.all()],
            ],
            key=repr,
        )

    def test_processing_again_changes_nothing(self) -> None:
        submission = self.submit_patrol()
        before = self.snapshot()
        self.assertTrue(processing.reprocess_submission(submission))
        self.assertEqual(processing.process_submission(submission.pk), ProcessingState.PROCESSED)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(Patrol.objects.count(), 1)

    def test_an_edit_replaces_the_records_of_the_old_version(self) -> None:
        first = self.submit_patrol()
        edit_xml = ob.instance_xml(
            "fk_patrol",
            ob.patrol_values(team="Varirata south", track=ob.geotrace(TRACK)),
            {"obs": PATROL_OBSERVATIONS[:2]},
            deprecated_id=first.instance_id,
        )
        edit = ob.submit(edit_xml, self.collector)
        self.assertEqual(edit.state, ProcessingState.PROCESSED, edit.processing_error)
        patrol = Patrol.objects.get()
        self.assertEqual(
            (patrol.team, patrol.submission, patrol.root_submission), ("Varirata south", edit, first)
        )
        self.assertEqual(Observation.objects.count(), 2)
        self.assertEqual(set(Observation.objects.values_list("submission", flat=True)), {edit.pk})
        self.assertEqual(PatrolLegDay.objects.count(), 1)

    def test_reprocessing_the_old_version_does_not_bring_it_back(self) -> None:
        first = self.submit_patrol()
        edit = ob.submit(
            ob.instance_xml(
                "fk_patrol",
                ob.patrol_values(track=ob.geotrace(TRACK)),
                {"obs": []},
                deprecated_id=first.instance_id,
            ),
            self.collector,
        )
        first.refresh_from_db()
        processing.reprocess_submission(first)
        processing.process_submission(first.pk)
        self.assertEqual(Observation.objects.count(), 0)
        self.assertEqual(Patrol.objects.get().submission, edit)

    def test_places_and_segments_carry_the_day_of_their_records_through_an_edit(self) -> None:
        first = self.submit_patrol()
        moved = [
            {**o, "when": str(o["when"]).replace("2024-05-14", "2024-05-15")} for o in PATROL_OBSERVATIONS
        ]
        ob.submit(
            ob.instance_xml(
                "fk_patrol",
                ob.patrol_values(
                    track=ob.geotrace(TRACK),
                    start_time="2024-05-15T07:00:00.000+10:00",
                    end_time="2024-05-15T15:30:00.000+10:00",
                ),
                {"obs": moved},
                deprecated_id=first.instance_id,
            ),
            self.collector,
        )
        days = {(p.day, p.observation.day) for p in ObservationPlace.objects.select_related("observation")}
        self.assertEqual(days, {(date(2024, 5, 15), date(2024, 5, 15))})
        days = {(s.day, s.leg_day.day) for s in TrackSegment.objects.select_related("leg_day")}
        self.assertEqual(days, {(date(2024, 5, 15), date(2024, 5, 15))})
        self.assertGreater(ObservationPlace.objects.count(), 10)
        self.assertEqual(TrackSegment.objects.count(), 3)

    def test_a_second_patrol_is_a_second_record(self) -> None:
        self.submit_patrol(observations=[])
        self.submit_patrol(observations=[])
        self.assertEqual(Patrol.objects.count(), 2)


class MultiDayPatrolTest(PatrolIngestTestCase):
    def test_a_leg_over_three_days_is_cut_at_local_midnight_and_never_counts_a_night(self) -> None:
        # 14 May 14:00 → 16 May 10:00 local (UTC+10), no day repeats: by the clock 44 h, of
        # which two nights. Each day runs from its first to its last recorded time instead:
        # 14:00–17:30 (3.5 h), 07:00–16:00 (9 h), 08:00–10:00 (2 h), 14.5 h in all. The
        # 120 minutes of rest and the track are shared in the same proportions.
        seen = [
            ob.observation_values(loc=ob.geopoint(147.35, -9.44), when=when, category="animals.live")
            for when in (
                "2024-05-14T17:30:00.000+10:00",
                "2024-05-15T07:00:00.000+10:00",
                "2024-05-15T16:00:00.000+10:00",
                "2024-05-16T08:00:00.000+10:00",
            )
        ]
        self.submit_patrol(
            observations=seen,
            start_time="2024-05-14T14:00:00.000+10:00",
            end_time="2024-05-16T10:00:00.000+10:00",
            rest="120",
        )
        days = list(PatrolLegDay.objects.order_by("day"))
        self.assertEqual([str(d.day) for d in days], ["2024-05-14", "2024-05-15", "2024-05-16"])
        self.assertEqual([d.patrol_hours for d in days], [3.5, 9.0, 2.0])
        shares = [3.5 / 14.5, 9 / 14.5, 2 / 14.5]
        for day, hours, share in zip(days, [3.5, 9.0, 2.0], shares, strict=True):
            self.assertAlmostEqual(day.field_hours, hours - 120 * share / 60, places=4)
            self.assertAlmostEqual(day.distance_km, KM_TRACK * share, places=2)
        self.assertAlmostEqual(sum(d.distance_km for d in days), KM_TRACK, places=3)
        self.assertEqual(sum(d.person_days for d in days), 12.0)
        area_km = sum(TrackSegment.objects.filter(zone=None).values_list("distance_km", flat=True))
        self.assertAlmostEqual(area_km, KM_AREA, places=3)
        flag = QAFlag.objects.get(code="day_hours_from_times")
        self.assertIn("nights excluded", flag.detail)

    def test_a_two_day_leg_with_nothing_recorded_between_has_no_night_hours(self) -> None:
        # 08:00 → 16:00 two days later was 56 patrol hours; with only its start and end
        # recorded, no day has two recorded times, so none has hours: no night is counted.
        self.submit_patrol(
            observations=[],
            start_time="2024-05-14T08:00:00.000+10:00",
            end_time="2024-05-16T16:00:00.000+10:00",
            rest="0",
        )
        days = list(PatrolLegDay.objects.order_by("day"))
        self.assertEqual(len(days), 3)
        self.assertEqual(sum(d.patrol_hours for d in days), 0.0)
        self.assertEqual(sum(d.person_days for d in days), 12.0)
        self.assertTrue(QAFlag.objects.filter(code="day_hours_from_times").exists())


class QAFlagsTest(PatrolIngestTestCase):
    def codes(self) -> set[str]:
        return set(QAFlag.objects.values_list("code", flat=True))

    def test_impossible_speed_on_foot(self) -> None:
        # 12.17 km in 30 minutes is 24 km/h: not on foot.
        self.submit_patrol(observations=[], end_time="2024-05-14T07:30:00.000+10:00", rest="0")
        flag = QAFlag.objects.get(code="impossible_speed")
        self.assertIn("24.3 km/h", flag.detail)
        self.assertEqual(flag.leg_day, PatrolLegDay.objects.get())

    def test_the_same_speed_by_vehicle_is_fine(self) -> None:
        self.submit_patrol(
            observations=[], end_time="2024-05-14T07:30:00.000+10:00", rest="0", transport="vehicle"
        )
        self.assertNotIn("impossible_speed", self.codes())

    def test_a_track_of_one_point(self) -> None:
        self.submit_patrol(observations=[], track=ob.geotrace([(147.36, -9.47)]))
        self.assertEqual(self.codes(), {"short_track", "no_track"})
        self.assertEqual(PatrolLegDay.objects.get().distance_km, 0)

    def test_junk_points_are_left_out_of_the_track(self) -> None:
        self.submit_patrol(observations=[], track=ob.geotrace([(147.36, -9.47), (0.0, 0.0), (147.36, -9.36)]))
        self.assertEqual(self.codes(), {"junk_fix"})
        self.assertAlmostEqual(PatrolLegDay.objects.get().distance_km, KM_TRACK, places=3)

    def test_times_in_the_future_and_before_2000(self) -> None:
        future = ob.observation_values(
            loc=ob.geopoint(147.35, -9.44), when="2099-01-01T10:00:00.000+10:00", category="animals.live"
        )
        ancient = ob.observation_values(
            loc=ob.geopoint(147.35, -9.44), when="1970-01-01T10:00:00.000+10:00", category="animals.live"
        )
        self.submit_patrol(observations=[future, ancient])
        self.assertLessEqual({"future_time", "ancient_time"}, self.codes())
        self.assertEqual(Observation.objects.count(), 2)

    def test_end_before_start(self) -> None:
        self.submit_patrol(observations=[], end_time="2024-05-14T06:00:00.000+10:00")
        self.assertIn("end_before_start", self.codes())
        self.assertEqual(PatrolLegDay.objects.get().field_hours, 0)


class IncidentFormTest(BaseTestCase):
    """An incident form has no fieldkit:record column: its root is one observation."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        ob.publish(ob.incident_form_md(), [cls.area])

    def test_it_makes_one_independent_observation(self) -> None:
        values = ob.observation_values(
            loc=ob.geopoint(147.35, -9.44),
            when="2024-06-01T10:00:00.000+10:00",
            category="human_activity.weapons.firearm",
            action="arrested",
            suspects="1",
        )
        submission = ob.submit(ob.instance_xml("fk_incident", values), self.collector)
        self.assertEqual(submission.state, ProcessingState.PROCESSED, submission.processing_error)
        row = Observation.objects.get()
        self.assertEqual((row.patrol, row.leg_day, row.area, row.instance_path), (None, None, self.area, ""))
        self.assertEqual(row.illicit.suspects, 1)
        self.assertFalse(Patrol.objects.exists())

    def test_without_a_fix_it_takes_the_forms_area(self) -> None:
        values = ob.observation_values(when="2024-06-01T10:00:00.000+10:00", category="animals.carcass")
        ob.submit(ob.instance_xml("fk_incident", values), self.collector)
        row = Observation.objects.get()
        self.assertEqual((row.location, row.area), (None, self.area))
        self.assertEqual(set(QAFlag.objects.values_list("code", flat=True)), {"no_location"})


class LocalDayTest(BaseTestCase):
    """A form whose areas lie in two timezones takes an observation's day in the phone's
    offset first, then in the timezone of the area the point falls in."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        ProtectedArea.objects.filter(pk=cls.other_area.pk).update(timezone="Asia/Jayapura")
        ob.publish(ob.incident_form_md(), [cls.area, cls.other_area])

    def test_the_record_and_its_places_take_the_areas_day(self) -> None:
        values = ob.observation_values(
            loc=ob.geopoint(147.35, -9.44), when="2024-06-01T23:30:00.000+00:00", category="animals.carcass"
        )
        ob.submit(ob.instance_xml("fk_incident", values), self.collector)
        row = Observation.objects.get()
        self.assertEqual((row.area, row.day), (self.area, date(2024, 6, 2)))
        self.assertEqual(set(ObservationPlace.objects.values_list("day", flat=True)), {date(2024, 6, 2)})


class METTTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        ob.publish(ob.mett_form_md(questions=5), [cls.area, cls.other_area])

    def mett_xml(self, area: str) -> bytes:
        values: dict[str, object] = {"area": area, "year": "2024"}
        for q, score in zip(["q01", "q02", "q03", "q04", "q05"], ["3", "2", "na", "0", "1"], strict=True):
            values[q] = score
            values[f"{q}_comment"] = f"comment {q}"
        values.update({"q07a": "1", "q30a": "1"})
        return ob.instance_xml("fk_mett", values)

    def test_it_records_scores_and_totals(self) -> None:
        submission = ob.submit(self.mett_xml(str(self.area.wdpa_id)), self.collector)
        self.assertEqual(submission.state, ProcessingState.PROCESSED, submission.processing_error)
        mett = METTAssessment.objects.get()
        self.assertEqual((mett.area, mett.year), (self.area, 2024))
        # Four applicable questions: 3+2+0+1 = 6 of 12. q07 and q30 were not asked, so their
        # bonus points are left out.
        self.assertEqual((mett.score_total, mett.score_max, mett.questions_answered), (6, 12, 4))
        self.assertEqual(mett.score_percent, 50.0)
        q03 = METTScore.objects.get(question="q03")
        self.assertEqual((q03.score, q03.element, q03.comment), (None, "inputs", "comment q03"))
        self.assertEqual(METTScore.objects.count(), 7)

    def test_an_unknown_area_fails_visibly_and_can_be_processed_again(self) -> None:
        submission = ob.submit(self.mett_xml("555555"), self.collector)
        self.assertEqual(submission.state, ProcessingState.FAILED)
        self.assertIn(
            "mett.area is '555555': no protected area has that WDPA id", submission.processing_error
        )
        self.assertTrue(submission.processing_error.startswith("422.6"), submission.processing_error)
        self.assertFalse(METTAssessment.objects.exists())

        late = make_area("Late import", wdpa_id=555555, bounds=(150.0, -6.0, 150.1, -5.9))
        # Records go only to areas where the sender may send data through the form.
        submission.form.areas.add(late)
        AreaMembership.objects.create(user=self.collector, area=late, role=Role.COLLECTOR)
        processing.reprocess_submission(submission)
        self.assertEqual(processing.process_submission(submission.pk), ProcessingState.PROCESSED)
        self.assertEqual(METTAssessment.objects.get().area.name, "Late import")

    def test_no_area_and_a_form_of_two_areas_fails(self) -> None:
        submission = ob.submit(self.mett_xml(""), self.collector)
        self.assertEqual(submission.state, ProcessingState.FAILED)
        self.assertIn("names no protected area (mett.area)", submission.processing_error)


class BudgetTest(BaseTestCase):
    def test_it_records_income_spending_and_needs(self) -> None:
        ob.publish(ob.budget_form_md(), [self.area])
        values = {
            "area": "",  # the form's only area
            "fy": "2024",
            "gov": "120000",
            "donor": "80500.50",
            "staff": "95000",
            "patrols": "40000",
            "staff_n": "12",
            "basic": "300000",
            "optimal": "550000",
        }
        submission = ob.submit(ob.instance_xml("fk_budget", values), self.collector)
        self.assertEqual(submission.state, ProcessingState.PROCESSED, submission.processing_error)
        budget = BudgetReturn.objects.get()
        self.assertEqual((budget.area, budget.fiscal_year, budget.staff_count), (self.area, 2024, 12))
        self.assertEqual((budget.need_basic, budget.currency), (Decimal("300000.00"), "PGK"))
        lines = {(line.kind, line.category): line.actual for line in BudgetLine.objects.all()}
        self.assertEqual(
            lines,
            {
                ("income", "government"): Decimal("120000.00"),
                ("income", "donor"): Decimal("80500.50"),
                ("spend", "staff"): Decimal("95000.00"),
                ("spend", "patrol_operations"): Decimal("40000.00"),
            },
        )


class UnmappedFormTest(BaseTestCase):
    def test_a_form_without_mapping_is_processed_and_makes_no_records(self) -> None:
        make_form(areas=[self.area], form_id="plain")
        submission = ob.submit(make_instance(form_id="plain"), self.collector)
        self.assertEqual(submission.state, ProcessingState.PROCESSED)
        self.assertFalse(Observation.objects.exists())
