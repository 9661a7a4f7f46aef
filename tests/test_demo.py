"""The standard forms' submissions become records, and the demo year goes through the same
submission path."""

from __future__ import annotations

from collections import Counter

from django.test import TestCase

from accounts.models import AreaMembership, Role, User
from observations.models import (
    BudgetReturn,
    METTAssessment,
    Observation,
    Patrol,
    PatrolLegDay,
    SpeciesObservation,
    TrackSegment,
)
from odk_forms import processing, receiving, xform
from odk_forms.models import ProcessingState, Submission
from portal import demo
from protected_areas.demo import load_demo_areas
from protected_areas.models import ProtectedArea
from tests.observation_builders import submit


class StandardFormsTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        load_demo_areas()
        demo.load_demo_taxa()
        cls.areas = list(ProtectedArea.objects.order_by("wdpa_id"))
        cls.ranger = User.objects.create_user("ranger", "ranger@example.org", "a long demo password")
        AreaMembership.objects.bulk_create(
            AreaMembership(user=cls.ranger, area=a, role=Role.COLLECTOR) for a in cls.areas
        )
        cls.versions = demo.publish_standard_forms(cls.areas, validate=False)
        cls.varirata = cls.areas[0]


class StandardPatrolFormTest(StandardFormsTestCase):
    def test_a_two_day_patrol_of_the_standard_form(self) -> None:
        lon, lat = self.varirata.boundary.centroid.coords
        track = f"{lat - 0.01} {lon} 0 5;{lat + 0.01} {lon} 0 5"
        snare = {
            # Recorded in the second day's repeat with a time of the first day (a phone clock
            # set back): it belongs to the day it was recorded in.
            "observation_time": "2024-03-04T15:00:00.000+10:00",
            "location": f"{lat} {lon} 0 4",
            "vertical": "illicit",
            "category": "human_activity.weapons",
            "subcategory": "human_activity.weapons.snare",
            "illicit": {"action_taken": "destroyed", "suspects": "0"},
            "count": "4",
        }
        values = {
            "patrol": {
                "patrol_id": "VNP-1",
                "leader": "Kila Oa",
                "members": "Mary Gabi\nJohn Vele",
                "member_count": "3",
                "transport": "foot",
                "mandate": "law_enforcement",
                "armed": "no",
            },
            "day": [
                {
                    "day_start": "2024-03-04T07:00:00.000+10:00",
                    "track": track,
                    "day_end": "2024-03-04T16:00:00.000+10:00",
                    "rest_minutes": "60",
                },
                {
                    "day_start": "2024-03-05T07:30:00.000+10:00",
                    "track": track,
                    "observation": [snare],
                    "day_end": "2024-03-05T12:30:00.000+10:00",
                    "rest_minutes": "30",
                },
            ],
        }
        xml = xform.fill_instance(bytes(self.versions["patrol"].xml), values, "uuid:standard-patrol-1")
        submission = submit(xml, self.ranger)
        self.assertEqual(submission.state, ProcessingState.PROCESSED, submission.processing_error)

        patrol = Patrol.objects.get()
        self.assertEqual((patrol.area, patrol.patrol_id), (self.varirata, "VNP-1"))
        days = list(PatrolLegDay.objects.order_by("start"))
        self.assertEqual(
            [(d.patrol_hours, d.field_hours, d.person_days) for d in days], [(9, 8, 3), (5, 4.5, 3)]
        )
        # 0.02° of latitude, twice: about 2.21 km a day.
        self.assertAlmostEqual(days[0].distance_km, 2.2120, places=2)
        row = Observation.objects.get()
        self.assertEqual(
            (row.leg_day, row.category_id, row.count), (days[1], "human_activity.weapons.snare", 4)
        )
        self.assertEqual((row.area, row.illicit.action_codes), (self.varirata, ["destroyed"]))
        self.assertIsNotNone(row.zone)


class DemoYearTest(StandardFormsTestCase):
    def test_a_demo_year_goes_through_the_submission_path(self) -> None:
        sent = 0
        for _, xml in demo.generate_submissions(self.areas, self.versions, 2024, seed=7, scale=0.25):
            received = receiving.receive_submission(xml, {}, user=self.ranger)
            processing.process_submission(received.submission.pk)
            sent += 1
        states = Counter(Submission.objects.values_list("state", flat=True))
        self.assertEqual(states, {ProcessingState.PROCESSED: sent})
        self.assertEqual(Patrol.objects.count(), 5 * 12)
        self.assertEqual(Patrol.objects.filter(area=None).count(), 0)
        self.assertEqual(METTAssessment.objects.count(), 5)
        self.assertEqual(BudgetReturn.objects.count(), 5)
        verticals = set(Observation.objects.values_list("vertical", flat=True))
        self.assertEqual(verticals, {"illicit", "resource_use", "biodiversity", "other"})
        self.assertFalse(SpeciesObservation.objects.filter(taxon=None).exists())
        self.assertTrue(TrackSegment.objects.exclude(zone=None).exists())
        self.assertEqual(Observation.objects.filter(area=None).count(), 0)

        # Sending the year again changes nothing: the server already has every record.
        again = [
            receiving.receive_submission(xml, {}, user=self.ranger).created
            for _, xml in demo.generate_submissions(self.areas, self.versions, 2024, seed=7, scale=0.25)
        ]
        self.assertEqual((len(again), any(again)), (sent, False))
