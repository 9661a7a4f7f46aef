"""The rules field records follow so that indicators, maps, cases and exports built on them
hold: stable ids, effort per area and zone, nested areas, local days, counting rules, one
METT and one budget return per area and year.

Geometry as in tests/test_observations_ingest.py: Varirata is the box lon 147.30–147.42,
lat −9.48…−9.38, in Pacific/Port_Moresby (UTC+10).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from accounts.models import AreaMembership, Role
from observations import queries
from observations.models import (
    AgencyFiscalYear,
    BudgetLine,
    BudgetReturn,
    IllicitAction,
    METTAssessment,
    METTScore,
    Observation,
    ObservationPlace,
    Patrol,
    PatrolLegDay,
    QAFlag,
    SeizedItem,
    SpeciesObservation,
    TrackSegment,
)
from odk_forms import processing
from odk_forms.models import ProcessingState
from tests import observation_builders as ob
from tests.base import BaseTestCase
from tests.builders import make_area, make_zone

TRACK = [(147.36, -9.47), (147.36, -9.36)]

# The patrol form of the builders, with a `record.uuid` in its observation repeat (the
# standard forms' once(uuid()); a text question here, as the phone sends the value).
OBS_UUID_FORM = ob.xlsform_md(
    [
        *[(k, n, t, "") for k, n, t in ob.PATROL_QUESTIONS],
        ("begin repeat", "obs", "", "observation"),
        ("text", "obs_uuid", "record.uuid", ""),
        *[(k, n, t, "") for k, n, t in ob.OBSERVATION_QUESTIONS],
        ("end repeat", "", "", ""),
    ],
    "fk_patrol_ids",
)


def snare(lon: float, lat: float, time: str = "09:00", **values: object) -> dict[str, object]:
    return ob.observation_values(
        loc=ob.geopoint(lon, lat),
        when=f"2024-05-14T{time}:00.000+10:00",
        category="human_activity.weapons.snare",
        **values,
    )


class RecordIdentityTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.version = ob.publish(OBS_UUID_FORM, [cls.area])
        cls.plain = ob.publish(ob.patrol_form_md(), [cls.area])

    def submit(self, form_id: str, observations: list[dict[str, object]], **kwargs: object):  # type: ignore[no-untyped-def]
        values = ob.patrol_values(track=ob.geotrace(TRACK))
        return ob.submit(ob.instance_xml(form_id, values, {"obs": observations}, **kwargs), self.collector)  # type: ignore[arg-type]

    def ids(self) -> dict[str, int]:
        return {str(o.record_uuid): o.pk for o in Observation.objects.all()}

    def reprocess(self, submission) -> None:  # type: ignore[no-untyped-def]
        processing.reprocess_submission(submission)
        processing.process_submission(submission.pk)
        submission.refresh_from_db()
        self.assertEqual(submission.state, ProcessingState.PROCESSED, submission.processing_error)

    def test_reprocessing_keeps_every_id(self) -> None:
        uuids = ["0b7e0c1e-2b0a-4a40-9b7e-000000000001", "0b7e0c1e-2b0a-4a40-9b7e-000000000002"]
        first = self.submit("fk_patrol_ids", [snare(147.35, -9.44, obs_uuid=f"uuid:{u}") for u in uuids])
        self.assertEqual(first.state, ProcessingState.PROCESSED, first.processing_error)
        before = self.ids()
        patrol, days = Patrol.objects.get().pk, list(PatrolLegDay.objects.values_list("pk", flat=True))
        self.assertEqual(set(before), set(uuids))
        self.reprocess(first)
        self.assertEqual(self.ids(), before)
        self.assertEqual(Patrol.objects.get().pk, patrol)
        self.assertEqual(list(PatrolLegDay.objects.values_list("pk", flat=True)), days)

    def test_an_edit_keeps_ids_and_removes_the_record_of_a_dropped_repeat(self) -> None:
        uuids = [f"0b7e0c1e-2b0a-4a40-9b7e-00000000001{n}" for n in range(3)]
        first = self.submit(
            "fk_patrol_ids", [snare(147.35, -9.44, f"09:0{n}", obs_uuid=u) for n, u in enumerate(uuids)]
        )
        before = self.ids()
        # On the phone the second repeat is removed: the third becomes obs[2].
        edit = self.submit(
            "fk_patrol_ids",
            [
                snare(147.35, -9.44, "09:00", obs_uuid=uuids[0]),
                snare(147.36, -9.45, "09:02", obs_uuid=uuids[2]),
            ],
            deprecated_id=first.instance_id,
        )
        self.assertEqual(edit.state, ProcessingState.PROCESSED, edit.processing_error)
        self.assertEqual(self.ids(), {uuids[0]: before[uuids[0]], uuids[2]: before[uuids[2]]})
        moved = Observation.objects.get(record_uuid=uuids[2])
        self.assertEqual(
            (moved.instance_path, moved.submission, moved.root_submission), ("obs[2]", edit, first)
        )
        self.assertEqual(moved.location.coords, (147.36, -9.45))

    def test_a_uuid_sent_twice_is_flagged_and_the_copy_gets_its_own(self) -> None:
        same = "0b7e0c1e-2b0a-4a40-9b7e-000000000021"
        first = self.submit(
            "fk_patrol_ids", [snare(147.35, -9.44, obs_uuid=same), snare(147.36, -9.45, obs_uuid=same)]
        )
        self.assertEqual(first.state, ProcessingState.PROCESSED, first.processing_error)
        self.assertEqual(Observation.objects.values("record_uuid").distinct().count(), 2)
        self.assertTrue(QAFlag.objects.filter(code="bad_value", detail__contains="used twice").exists())

    def test_without_a_uuid_question_ids_survive_reprocessing(self) -> None:
        first = self.submit("fk_patrol", [snare(147.35, -9.44), snare(147.36, -9.45)])
        before = self.ids()
        self.reprocess(first)
        self.assertEqual(self.ids(), before)
        # The derived uuid is the root instanceID and the path, so it is known in advance.
        from observations.records import derived_uuid

        self.assertIn(str(derived_uuid(first.instance_id, "obs[1]")), before)

    def test_an_edit_that_drops_every_observation_removes_them(self) -> None:
        first = self.submit("fk_patrol", [snare(147.35, -9.44)])
        self.submit("fk_patrol", [], deprecated_id=first.instance_id)
        self.assertEqual(Observation.objects.count(), 0)
        self.assertEqual(Patrol.objects.count(), 1)


class EffortPerAreaTest(BaseTestCase):
    """A patrol along lat −9.43 from lon 147.37 to 147.48 walks 0.05° of longitude in
    Varirata (to 147.42) and 0.06° in the area east of it: its hours and person-days split
    5 : 6, as its distance does."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.east = make_area("East reserve", bounds=(147.42, -9.48, 147.54, -9.38))
        AreaMembership.objects.create(user=cls.collector, area=cls.east, role=Role.COLLECTOR)
        cls.core = make_zone(cls.east, "core", bounds=(147.45, -9.48, 147.54, -9.38))
        cls.version = ob.publish(ob.patrol_form_md(), [cls.area, cls.east])

    def test_a_two_area_patrol_splits_its_hours_and_person_days_by_distance(self) -> None:
        values = ob.patrol_values(track=ob.geotrace([(147.37, -9.43), (147.48, -9.43)]))
        submission = ob.submit(ob.instance_xml("fk_patrol", values, {"obs": []}), self.collector)
        self.assertEqual(submission.state, ProcessingState.PROCESSED, submission.processing_error)
        day = PatrolLegDay.objects.get()
        west = TrackSegment.objects.get(area=self.area, zone=None)
        east = TrackSegment.objects.get(area=self.east, zone=None)
        self.assertAlmostEqual(west.distance_km / east.distance_km, 5 / 6, places=3)
        self.assertAlmostEqual(west.distance_km + east.distance_km, day.distance_km, places=6)
        for segment, share in ((west, 5 / 11), (east, 6 / 11)):
            self.assertAlmostEqual(segment.patrol_hours, 8.5 * share, places=3)
            self.assertAlmostEqual(segment.field_hours, 7.0 * share, places=3)
            self.assertAlmostEqual(segment.person_days, 4 * share, places=3)
            self.assertTrue(segment.has_track)
        # The zone gets the share of its own distance (147.45–147.48: 3/11).
        zone = TrackSegment.objects.get(zone=self.core)
        self.assertAlmostEqual(zone.person_days, 4 * 3 / 11, places=3)

    def test_a_day_without_track_keeps_its_effort_on_its_area(self) -> None:
        values = ob.patrol_values(track="")
        ob.submit(ob.instance_xml("fk_patrol", values, {"obs": [snare(147.35, -9.44)]}), self.collector)
        segment = TrackSegment.objects.get()
        self.assertEqual((segment.area, segment.zone, segment.has_track), (self.area, None, False))
        self.assertEqual((segment.patrol_hours, segment.field_hours, segment.person_days), (8.5, 7.0, 4.0))
        self.assertEqual(segment.distance_km, 0)
        self.assertTrue(QAFlag.objects.filter(code="no_track").exists())


class NestedAreasTest(BaseTestCase):
    """Varirata (a park) lies inside a larger reserve: a snare in the park counts in both,
    as the track does."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.reserve = make_area("Sogeri biosphere reserve", bounds=(147.20, -9.60, 147.60, -9.20))
        AreaMembership.objects.create(user=cls.collector, area=cls.reserve, role=Role.COLLECTOR)
        cls.core = make_zone(cls.area, "core")
        cls.version = ob.publish(ob.patrol_form_md(), [cls.area, cls.reserve])

    def test_a_snare_in_a_park_inside_a_reserve_counts_in_both(self) -> None:
        values = ob.patrol_values(track=ob.geotrace(TRACK))
        ob.submit(ob.instance_xml("fk_patrol", values, {"obs": [snare(147.36, -9.43)]}), self.collector)
        row = Observation.objects.get()
        # The smallest area is the primary one, for display.
        self.assertEqual((row.area, row.zone), (self.area, self.core))
        places = set(ObservationPlace.objects.values_list("area", "zone"))
        self.assertEqual(
            places, {(self.area.pk, None), (self.reserve.pk, None), (self.area.pk, self.core.pk)}
        )
        for area in (self.area, self.reserve):
            snares = ObservationPlace.objects.filter(
                area=area, zone=None, observation__category="human_activity.weapons.snare"
            )
            self.assertEqual(snares.count(), 1)
            self.assertTrue(TrackSegment.objects.filter(area=area, zone=None, distance_km__gt=0).exists())

    def test_a_role_in_the_reserve_sees_the_records_of_the_park_inside_it(self) -> None:
        values = ob.patrol_values(track=ob.geotrace(TRACK))
        ob.submit(ob.instance_xml("fk_patrol", values, {"obs": [snare(147.36, -9.43)]}), self.collector)
        snare_row = Observation.objects.get()
        self.assertEqual(snare_row.area, self.area)
        reserve_manager = self._user("reserve-manager", self.reserve, Role.MANAGER)
        self.assertEqual(list(queries.observations_visible_to(reserve_manager)), [snare_row])
        self.assertEqual(list(queries.observations_visible_to(self.owner)), [snare_row])
        self.assertEqual(list(queries.observations_visible_to(self.outsider)), [])

    def test_an_observation_outside_the_park_but_in_the_reserve_counts_only_there(self) -> None:
        values = ob.patrol_values(track=ob.geotrace(TRACK))
        ob.submit(ob.instance_xml("fk_patrol", values, {"obs": [snare(147.50, -9.43)]}), self.collector)
        self.assertEqual(Observation.objects.get().area, self.reserve)
        self.assertEqual(list(ObservationPlace.objects.values_list("area", flat=True)), [self.reserve.pk])


class LocalCalendarTest(BaseTestCase):
    """Bougainville keeps UTC+11 while mainland Papua New Guinea keeps UTC+10: a form for
    areas in both has no one timezone, and a patrol without a track is dated by the offset
    the phone wrote, then by its area's zone."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.bougainville = make_area("Bougainville reserve", bounds=(155.3, -6.5, 155.8, -6.0))
        AreaMembership.objects.create(user=cls.collector, area=cls.bougainville, role=Role.COLLECTOR)
        cls.version = ob.publish(ob.patrol_form_md(), [cls.area, cls.bougainville])

    def test_the_areas_have_their_own_timezones(self) -> None:
        self.assertEqual(
            (self.area.timezone, self.bougainville.timezone), ("Pacific/Port_Moresby", "Pacific/Bougainville")
        )

    def test_a_bougainville_patrol_is_dated_in_its_own_day(self) -> None:
        # 00:30–06:00 on 5 March in Bougainville is 4 March in UTC and in Port Moresby.
        values = ob.patrol_values(
            track="", start_time="2024-03-05T00:30:00.000+11:00", end_time="2024-03-05T06:00:00.000+11:00"
        )
        seen = ob.observation_values(
            loc=ob.geopoint(155.5, -6.2), when="2024-03-05T00:45:00.000+11:00", category="animals.live"
        )
        submission = ob.submit(ob.instance_xml("fk_patrol", values, {"obs": [seen]}), self.collector)
        self.assertEqual(submission.state, ProcessingState.PROCESSED, submission.processing_error)
        day = PatrolLegDay.objects.get()
        self.assertEqual((day.day, day.patrol_hours), (date(2024, 3, 5), 5.5))
        observation = Observation.objects.get()
        self.assertEqual((observation.area, observation.day), (self.bougainville, date(2024, 3, 5)))
        self.assertEqual(Patrol.objects.get().area, self.bougainville)

    def test_an_observation_day_is_its_areas_day_whatever_the_phone_says(self) -> None:
        # A phone left on mainland time (+10) in Bougainville: 23:30 there is 00:30 local.
        seen = ob.observation_values(
            loc=ob.geopoint(155.5, -6.2), when="2024-03-04T23:30:00.000+10:00", category="animals.live"
        )
        ob.submit(ob.instance_xml("fk_patrol", ob.patrol_values(track=""), {"obs": [seen]}), self.collector)
        self.assertEqual(Observation.objects.get().day, date(2024, 3, 5))


# A form for the counting rules: several actions, seized items in a repeat.
COUNTING_FORM = ob.xlsform_md(
    [
        ("geopoint", "loc", "observation.location", ""),
        ("dateTime", "when", "observation.time", ""),
        ("select_one category", "category", "observation.category", ""),
        ("text", "taxon", "species.taxon", ""),
        ("select_one yn", "occurrence", "species.occurrence", ""),
        ("select_multiple action", "action", "illicit.action_taken", ""),
        ("begin repeat", "seized", "", "seized_item"),
        ("select_one seized", "what", "seized.kind", ""),
        ("decimal", "how_many", "seized.quantity", ""),
        ("select_one unit", "unit", "seized.unit", ""),
        ("end repeat", "", "", ""),
    ],
    "fk_counting",
    choices=[
        *ob._choices(),
        *[("seized", code, code, "") for code in ("snare", "firearm", "bushmeat", "other")],
    ],
)


class CountingRulesTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        from observations import reference

        reference.sync_reference_data()
        cls.version = ob.publish(COUNTING_FORM, [cls.area])

    def send(self, **values: object) -> Observation:
        answers = {"loc": ob.geopoint(147.35, -9.44), "when": "2024-05-14T09:00:00.000+10:00", **values}
        seized = answers.pop("seized", [])
        submission = ob.submit(ob.instance_xml("fk_counting", answers, {"seized": seized}), self.collector)  # type: ignore[dict-item]
        self.assertEqual(submission.state, ProcessingState.PROCESSED, submission.processing_error)
        return Observation.objects.get(submission=submission)

    def test_a_bushmeat_record_adds_no_species(self) -> None:
        self.send(category="animals.live", taxon="casuarius_casuarius")
        meat = self.send(category="human_activity.hunting.bushmeat", taxon="goura_scheepmakeri")
        carcass = self.send(category="animals.carcass", taxon="sus_scrofa")
        self.assertFalse(meat.species.is_occurrence)
        self.assertFalse(carcass.species.is_occurrence)
        # The taxon is kept on the record, for cases and trade figures...
        self.assertEqual(meat.species.taxon_name, "goura_scheepmakeri")
        # ...but richness counts only the live cassowary.
        self.assertEqual(
            set(queries.occurrences().values_list("taxon_name", flat=True)), {"casuarius_casuarius"}
        )

    def test_the_form_may_say_a_carcass_is_an_occurrence(self) -> None:
        carcass = self.send(category="animals.carcass", taxon="sus_scrofa", occurrence="yes")
        self.assertTrue(carcass.species.is_occurrence)

    def test_an_arrest_is_an_action_not_a_category_record(self) -> None:
        row = self.send(category="human_activity.arrest", action="confiscated")
        self.assertEqual((row.category_id, row.vertical), ("human_activity.people", "illicit"))
        self.assertEqual(row.illicit.action_codes, ["arrested", "confiscated"])
        self.assertEqual(Observation.objects.count(), 1)

    def test_several_actions_and_structured_seized_items(self) -> None:
        row = self.send(
            category="human_activity.weapons.snare",
            action="arrested confiscated",
            seized=[
                {"what": "snare", "how_many": "12", "unit": "items"},
                {"what": "bushmeat", "how_many": "4.5", "unit": "kg"},
            ],
        )
        self.assertEqual(
            list(IllicitAction.objects.filter(illicit=row.illicit).values_list("action", flat=True)),
            ["arrested", "confiscated"],
        )
        items = list(SeizedItem.objects.filter(illicit=row.illicit).values_list("kind", "quantity", "unit"))
        self.assertEqual(items, [("snare", 12.0, "items"), ("bushmeat", 4.5, "kg")])


class METTRulesTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.version = ob.publish(ob.mett_form_md(), [cls.area])

    def send(self, year: int = 2024, **kwargs: object):  # type: ignore[no-untyped-def]
        values: dict[str, object] = {"area": str(self.area.wdpa_id), "year": str(year)}
        values.update({f"q{n:02d}": "2" for n in range(1, 31)})
        return ob.submit(ob.instance_xml("fk_mett", values, **kwargs), self.collector)  # type: ignore[arg-type]

    def test_a_dual_element_question_counts_in_both_elements(self) -> None:
        self.send()
        q08 = METTScore.objects.get(question="q08")
        self.assertEqual((q08.element, q08.second_element), ("planning", "outputs"))
        duals = METTScore.objects.exclude(second_element="").values_list("question", flat=True)
        self.assertEqual(sorted(duals), ["q08", "q10", "q14", "q26", "q29"])
        outputs = queries.mett_scores_in_element("outputs")
        self.assertEqual(sorted(outputs.values_list("question", flat=True)), ["q08", "q27"])
        self.assertEqual(METTAssessment.objects.get().version, "METT-3")

    def test_a_second_assessment_for_the_same_area_and_year_is_refused_and_kept(self) -> None:
        first = self.send()
        second = self.send()
        self.assertEqual(second.state, ProcessingState.FAILED)
        self.assertIn("422.64", second.processing_error)
        self.assertIn(first.instance_id, second.processing_error)
        self.assertEqual(METTAssessment.objects.get().root_submission, first)
        # An edit of the first is the way to change it: in place.
        pk = METTAssessment.objects.get().pk
        edit = self.send(deprecated_id=first.instance_id)
        self.assertEqual(edit.state, ProcessingState.PROCESSED, edit.processing_error)
        self.assertEqual(
            (METTAssessment.objects.get().pk, METTAssessment.objects.get().submission), (pk, edit)
        )
        # Another year is another assessment.
        self.assertEqual(self.send(year=2025).state, ProcessingState.PROCESSED)


BUDGET_FORM = ob.xlsform_md(
    [
        ("integer", "area", "budget.area", ""),
        ("integer", "fy", "budget.fiscal_year", ""),
        ("decimal", "gov", "budget.income.government", ""),
        ("decimal", "gov_planned", "budget.income.government.planned", ""),
        ("decimal", "staff", "budget.spend.staff", ""),
        ("decimal", "staff_planned", "budget.spend.staff.planned", ""),
    ],
    "fk_budget_planned",
)


class BudgetRulesTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.version = ob.publish(BUDGET_FORM, [cls.area])

    def send(self, **kwargs: object):  # type: ignore[no-untyped-def]
        values = {"area": str(self.area.wdpa_id), "fy": "2024", "gov": "90000", "gov_planned": "120000",
                  "staff": "70000", "staff_planned": "65000"}  # fmt: skip
        return ob.submit(ob.instance_xml("fk_budget_planned", values, **kwargs), self.collector)  # type: ignore[arg-type]

    def test_planned_and_actual_amounts_per_category(self) -> None:
        self.send()
        lines = {(b.kind, b.category): (b.planned, b.actual) for b in BudgetLine.objects.all()}
        self.assertEqual(
            lines,
            {
                ("income", "government"): (Decimal("120000.00"), Decimal("90000.00")),
                ("spend", "staff"): (Decimal("65000.00"), Decimal("70000.00")),
            },
        )
        self.assertEqual(BudgetReturn.objects.get().fiscal_year_start, date(2024, 1, 1))

    def test_the_fiscal_year_starts_in_the_agencys_month(self) -> None:
        type(self.area).objects.filter(pk=self.area.pk).update(management_authority="Conservation Authority")
        AgencyFiscalYear.objects.create(agency="Conservation Authority", start_month=7)
        self.send()
        self.assertEqual(BudgetReturn.objects.get().fiscal_year_start, date(2024, 7, 1))

    def test_a_second_return_for_the_same_year_is_refused_and_kept(self) -> None:
        first = self.send()
        second = self.send()
        self.assertEqual(second.state, ProcessingState.FAILED)
        self.assertIn("422.65", second.processing_error)
        self.assertEqual(BudgetReturn.objects.get().root_submission, first)
        edit = self.send(deprecated_id=first.instance_id)
        self.assertEqual(edit.state, ProcessingState.PROCESSED, edit.processing_error)
        self.assertEqual(BudgetReturn.objects.count(), 1)


def test_occurrence_rule_by_category() -> None:
    from observations import categories

    assert categories.is_occurrence("animals.live")
    assert categories.is_occurrence("animals.sign.dung", "dung")
    assert categories.is_occurrence("plants.notable")
    assert not categories.is_occurrence("animals.carcass", "carcass")
    assert not categories.is_occurrence("animals.live", "carcass")
    assert not categories.is_occurrence("human_activity.hunting.bushmeat")
    assert not categories.is_occurrence("human_activity.hunting.animal_parts")
    assert SpeciesObservation._meta.get_field("is_occurrence").default is True
