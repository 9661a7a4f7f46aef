"""Records are placed only in areas where their sender may send data through their form.

A collector of Varirata must not write a budget, a METT score, an incident or patrol effort
for Tonda, whether by naming Tonda's WDPA id or by a point or track inside it. A named area
that is not allowed fails the submission (kept, with the reason, to process again once the
sender has the right); a point or track in such an area is kept without that area and
flagged.
"""

from __future__ import annotations

from accounts.models import AreaMembership, Role, User
from observations.models import (
    BudgetReturn,
    METTAssessment,
    Observation,
    Patrol,
    QAFlag,
    TrackSegment,
)
from odk_forms.models import ProcessingState
from tests import observation_builders as ob
from tests.base import PASSWORD, BaseTestCase
from tests.builders import make_area

# The area is the box lon 147.30–147.42, lat −9.48…−9.38; the neighbour is east of it.
NEIGHBOUR_BOUNDS = (147.42, -9.48, 147.50, -9.38)


def budget_values(area: str) -> dict[str, object]:
    return {"area": area, "fy": "2024", "gov": "1000", "staff_n": "3"}


def mett_values(area: str) -> dict[str, object]:
    return {"area": area, "year": "2024", "q01": "2", "q02": "1"}


def incident_form_md() -> str:
    """An incident with a place named by its area when there is no fix (observation.area)."""
    survey = [("text", "area", "observation.area", "")]
    survey += [(k, n, t, "") for k, n, t in ob.OBSERVATION_QUESTIONS]
    return ob.xlsform_md(survey, "fk_incident_area")


def patrol_with_area_md() -> str:
    survey = [("text", "area", "patrol.area", "")]
    survey += [(k, n, t, "") for k, n, t in ob.PATROL_QUESTIONS]
    survey.append(("begin repeat", "obs", "", "observation"))
    survey += [(k, n, t, "") for k, n, t in ob.OBSERVATION_QUESTIONS]
    survey.append(("end repeat", "", "", ""))
    return ob.xlsform_md(survey, "fk_patrol_area")


class AreaRightsTestCase(BaseTestCase):
    """Forms shared by both areas; the collector is a collector of the first area only, the
    member a member of both."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.neighbour = make_area("Sogeri Neighbour Reserve", bounds=NEIGHBOUR_BOUNDS)
        AreaMembership.objects.create(user=cls.member, area=cls.other_area, role=Role.MEMBER)
        AreaMembership.objects.create(user=cls.member, area=cls.neighbour, role=Role.MEMBER)
        shared = [cls.area, cls.other_area, cls.neighbour]
        ob.publish(ob.budget_form_md(), shared)
        ob.publish(ob.mett_form_md(questions=2), shared)
        ob.publish(incident_form_md(), shared)
        ob.publish(patrol_with_area_md(), shared)
        ob.publish(ob.patrol_form_md(), shared)

    def assertRefused(self, submission, value: str) -> None:  # type: ignore[no-untyped-def]
        self.assertEqual(submission.state, ProcessingState.FAILED)
        self.assertTrue(submission.processing_error.startswith("422.63 "), submission.processing_error)
        self.assertIn(
            f"is {value!r}: Tonda Wildlife Management Area is not an area where collector",
            submission.processing_error,
        )


class NamedAreaTest(AreaRightsTestCase):
    def test_a_collector_cannot_write_a_budget_for_another_area(self) -> None:
        xml = ob.instance_xml("fk_budget", budget_values(str(self.other_area.wdpa_id)))
        submission = ob.submit(xml, self.collector)
        self.assertRefused(submission, str(self.other_area.wdpa_id))
        self.assertFalse(BudgetReturn.objects.exists())

    def test_the_source_id_spelling_is_refused_too(self) -> None:
        code = f"{self.other_area.source}:{self.other_area.source_id}"
        submission = ob.submit(ob.instance_xml("fk_budget", budget_values(code)), self.collector)
        self.assertRefused(submission, code)

    def test_a_collector_writes_a_budget_for_its_own_area(self) -> None:
        xml = ob.instance_xml("fk_budget", budget_values(str(self.area.wdpa_id)))
        submission = ob.submit(xml, self.collector)
        self.assertEqual(submission.state, ProcessingState.PROCESSED, submission.processing_error)
        self.assertEqual(BudgetReturn.objects.get().area, self.area)

    def test_a_member_of_both_areas_writes_for_either(self) -> None:
        xml = ob.instance_xml("fk_budget", budget_values(str(self.other_area.wdpa_id)))
        submission = ob.submit(xml, self.member)
        self.assertEqual(submission.state, ProcessingState.PROCESSED, submission.processing_error)
        self.assertEqual(BudgetReturn.objects.get().area, self.other_area)

    def test_a_collector_cannot_write_a_mett_assessment_for_another_area(self) -> None:
        xml = ob.instance_xml("fk_mett", mett_values(str(self.other_area.wdpa_id)))
        self.assertRefused(ob.submit(xml, self.collector), str(self.other_area.wdpa_id))
        self.assertFalse(METTAssessment.objects.exists())

    def test_a_collector_cannot_place_an_incident_in_another_area(self) -> None:
        values = ob.observation_values(
            area=str(self.other_area.wdpa_id),
            when="2024-06-01T10:00:00.000+10:00",
            category="human_activity.weapons.snare",
        )
        submission = ob.submit(ob.instance_xml("fk_incident_area", values), self.collector)
        self.assertRefused(submission, str(self.other_area.wdpa_id))
        self.assertFalse(Observation.objects.exists())

    def test_a_collector_cannot_name_another_area_for_a_patrol(self) -> None:
        values = {"area": str(self.other_area.wdpa_id), **ob.patrol_values()}
        submission = ob.submit(ob.instance_xml("fk_patrol_area", values), self.collector)
        self.assertRefused(submission, str(self.other_area.wdpa_id))
        self.assertFalse(Patrol.objects.exists())

    def test_the_area_of_a_form_is_checked_too(self) -> None:
        # The member may send data to the other area, but not through a form of this area.
        ob.publish(ob.budget_form_md(form_id="fk_budget_here"), [self.area])
        xml = ob.instance_xml("fk_budget_here", budget_values(str(self.other_area.wdpa_id)))
        submission = ob.submit(xml, self.member)
        self.assertEqual(submission.state, ProcessingState.FAILED)
        self.assertIn("422.63", submission.processing_error)

    def test_a_superuser_may_write_for_any_area(self) -> None:
        chief = User.objects.create_superuser("chief", "chief@example.org", PASSWORD)
        xml = ob.instance_xml("fk_budget", budget_values(str(self.other_area.wdpa_id)))
        submission = ob.submit(xml, chief)
        self.assertEqual(submission.state, ProcessingState.PROCESSED, submission.processing_error)

    def test_granting_the_right_and_processing_again_places_the_record(self) -> None:
        from odk_forms import processing

        xml = ob.instance_xml("fk_budget", budget_values(str(self.other_area.wdpa_id)))
        submission = ob.submit(xml, self.collector)
        self.assertEqual(submission.state, ProcessingState.FAILED)
        AreaMembership.objects.create(user=self.collector, area=self.other_area, role=Role.COLLECTOR)
        processing.reprocess_submission(submission)
        self.assertEqual(processing.process_submission(submission.pk), ProcessingState.PROCESSED)
        self.assertEqual(BudgetReturn.objects.get().area, self.other_area)


class LocatedRecordsTest(AreaRightsTestCase):
    def submit_patrol(self, user, track, observations=()):  # type: ignore[no-untyped-def]
        values = ob.patrol_values(track=ob.geotrace(track))
        xml = ob.instance_xml("fk_patrol", values, {"obs": list(observations)})
        submission = ob.submit(xml, user)
        self.assertEqual(submission.state, ProcessingState.PROCESSED, submission.processing_error)
        return submission

    def observation(self, lon: float, lat: float) -> dict[str, object]:
        return ob.observation_values(
            loc=ob.geopoint(lon, lat), when="2024-05-14T09:00:00.000+10:00", category="animals.live"
        )

    def test_a_point_in_a_forbidden_area_is_kept_unplaced_and_flagged(self) -> None:
        track = [(147.36, -9.43), (147.40, -9.43)]
        self.submit_patrol(
            self.collector, track, [self.observation(147.35, -9.44), self.observation(147.46, -9.43)]
        )
        here, there = Observation.objects.order_by("instance_path")
        self.assertEqual(here.area, self.area)
        self.assertEqual((there.area, there.zone, there.location.coords), (None, None, (147.46, -9.43)))
        flag = QAFlag.objects.get(observation=there)
        self.assertEqual(flag.code, "area_not_permitted")
        self.assertIn("is in Sogeri Neighbour Reserve, where collector may not send data", flag.detail)

    def test_a_track_into_a_forbidden_area_gives_it_no_effort(self) -> None:
        self.submit_patrol(self.collector, [(147.36, -9.43), (147.46, -9.43)])
        self.assertEqual(set(TrackSegment.objects.values_list("area", flat=True)), {self.area.pk})
        self.assertEqual(Patrol.objects.get().area, self.area)
        flag = QAFlag.objects.get(code="area_not_permitted")
        self.assertIn("the track crosses Sogeri Neighbour Reserve, where collector", flag.detail)

    def test_a_track_only_in_a_forbidden_area_places_the_patrol_nowhere(self) -> None:
        self.submit_patrol(self.collector, [(147.44, -9.43), (147.48, -9.43)])
        self.assertFalse(TrackSegment.objects.exists())
        self.assertIsNone(Patrol.objects.get().area)
        self.assertEqual(list(QAFlag.objects.values_list("code", flat=True)), ["area_not_permitted"])

    def test_a_member_of_both_areas_places_records_in_both(self) -> None:
        self.submit_patrol(self.member, [(147.36, -9.43), (147.46, -9.43)], [self.observation(147.46, -9.43)])
        self.assertEqual(
            set(TrackSegment.objects.values_list("area", flat=True)), {self.area.pk, self.neighbour.pk}
        )
        self.assertEqual(Observation.objects.get().area, self.neighbour)
        self.assertFalse(QAFlag.objects.filter(code="area_not_permitted").exists())
