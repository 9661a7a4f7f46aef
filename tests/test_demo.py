"""The standard forms' submissions become records, and the demo year goes through the same
submission path."""

from __future__ import annotations

import io
import random
import re
from collections import Counter

from django.db.models import Count
from django.test import TestCase

from accounts.models import AreaMembership, Role, User
from indicators.formulas import chao1
from observations.models import (
    BudgetReturn,
    IllicitAction,
    IllicitActivity,
    METTAssessment,
    Observation,
    Patrol,
    PatrolLegDay,
    SeizedItem,
    SpeciesObservation,
    TrackSegment,
)
from odk_forms import processing, receiving, xform
from odk_forms.models import Attachment, ProcessingState, Submission
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
        for _, xml, files in demo.generate_submissions_with_files(
            self.areas, self.versions, 2024, seed=7, scale=0.25
        ):
            parts = {name: io.BytesIO(data) for name, data in files.items()}
            received = receiving.receive_submission(xml, parts, user=self.ranger)
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
        # For cases: suspects, several actions, seized items, evidence photos.
        self.assertTrue(IllicitActivity.objects.filter(suspects__gt=0).exclude(suspect_names="").exists())
        self.assertTrue(SeizedItem.objects.exists())
        several = IllicitAction.objects.values("illicit").annotate(n=Count("pk")).filter(n__gt=1)
        self.assertTrue(several.exists())
        incidents = Observation.objects.filter(submission__form__xml_form_id="fieldkit_incident")
        self.assertTrue(incidents.exclude(photos=[]).exists())
        self.assertTrue(Attachment.objects.filter(name__startswith="evidence-").exists())
        # Bushmeat names a taxon that is no occurrence; every record has a stable uuid.
        self.assertTrue(SpeciesObservation.objects.filter(is_occurrence=False).exists())
        # Some tracks enter their area from outside: part of their length is in no area.
        crossing = [
            day
            for day in PatrolLegDay.objects.prefetch_related("segments")
            if day.distance_km - sum(s.distance_km for s in day.segments.all() if s.zone_id is None) > 0.1
        ]
        self.assertTrue(crossing)

        # Sending the year again changes nothing: the server already has every record.
        again = [
            receiving.receive_submission(xml, {}, user=self.ranger).created
            for _, xml in demo.generate_submissions(self.areas, self.versions, 2024, seed=7, scale=0.25)
        ]
        self.assertEqual((len(again), any(again)), (sent, False))


def _instance_id(xml: bytes) -> str:
    match = re.search(rb"<(?:\w+:)?instanceID>([^<]+)<", xml)
    assert match is not None
    return match.group(1).decode()


class DemoYearsTest(StandardFormsTestCase):
    """What the demo's three years hold, read from the generator (no processing: fast)."""

    def test_each_year_sends_its_own_submissions(self) -> None:
        # `load_demo --year 2024` after a load of another year used to send the same
        # instanceIDs with other answers.
        ids = {
            year: {
                _instance_id(xml)
                for _, xml in demo.generate_submissions(self.areas, self.versions, year, seed=7, scale=0.25)
            }
            for year in (2024, 2025)
        }
        self.assertFalse(ids[2024] & ids[2025])
        again = {
            _instance_id(xml)
            for _, xml in demo.generate_submissions(self.areas, self.versions, 2024, seed=7, scale=0.25)
        }
        self.assertEqual(again, ids[2024])

    def test_species_abundance_is_log_normal_so_chao1_exceeds_the_observed_richness(self) -> None:
        rng = random.Random(3)
        profile = demo.PROFILES[900000102]
        taxa, weights = demo._abundance(rng, profile, False, demo._taxa_by_group())
        self.assertGreater(len(taxa), 20)
        seen = Counter(rng.choices(taxa, weights=weights, k=200))
        counts = list(seen.values())
        estimate = chao1(counts)
        assert estimate is not None
        self.assertGreater(estimate.estimate, len(seen))
        # A few common species, many rare ones.
        self.assertGreater(max(counts), 10 * min(counts))

    def test_hotspots_draw_patrols_and_yield_less_each_year(self) -> None:
        focus = [demo._focus(year) for year in (2023, 2024, 2025)]
        pressure = [demo._pressure(year) for year in (2023, 2024, 2025)]
        self.assertEqual(focus, sorted(focus))
        self.assertEqual(pressure, sorted(pressure, reverse=True))
        self.assertGreater(pressure[-1], 1.0)
        self.assertEqual(len(demo.HOTSPOTS), 3)
