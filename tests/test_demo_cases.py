"""The demo's cases: from a processed demo year's illicit incidents, one case at each stage,
every step in the ledger, which verifies; loading them again does nothing."""

from __future__ import annotations

import io

from django.test import TestCase

from accounts.models import AreaMembership, Role, User
from enforcement import verification
from enforcement.models import Case, Exhibit
from odk_forms import processing, receiving
from portal import demo
from portal.demo_cases import load_demo_cases
from protected_areas.demo import load_demo_areas
from protected_areas.models import ProtectedArea


class DemoCasesTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        load_demo_areas()
        demo.load_demo_taxa()
        areas = list(ProtectedArea.objects.order_by("wdpa_id"))
        ranger = User.objects.create_user("ranger")
        cls.officer = User.objects.create_user("officer")
        cls.admin = User.objects.create_superuser("admin", "admin@example.org", "a long demo password")
        for user, role in ((ranger, Role.COLLECTOR), (cls.officer, Role.LAW_ENFORCEMENT)):
            AreaMembership.objects.bulk_create(AreaMembership(user=user, area=a, role=role) for a in areas)
        cls.versions = demo.publish_standard_forms(areas, validate=False)
        cls.areas, cls.ranger = areas, ranger

    def test_a_case_at_each_stage(self):
        # Sent here, not in setUpTestData: the files go to this test's MEDIA_ROOT.
        for stem, xml, files in demo.generate_submissions_with_files(
            self.areas, self.versions, 2024, seed=7, scale=0.25
        ):
            if stem != "incident":
                continue
            parts = {name: io.BytesIO(data) for name, data in files.items()}
            received = receiving.receive_submission(xml, parts, user=self.ranger)
            processing.process_submission(received.submission.pk)
        self.assertEqual(load_demo_cases(self.officer, self.admin), 5)
        self.assertEqual(
            sorted(Case.objects.values_list("status", flat=True)),
            sorted(["reported", "verified", "under_investigation", "in_court", "closed"]),
        )
        self.assertTrue(Exhibit.objects.exclude(sha256="").exists())
        self.assertTrue(Case.objects.filter(status="closed").exclude(outcome="").exists())
        result = verification.verify()
        self.assertTrue(result.ok, result.problem)
        self.assertGreater(result.files, 0)
        self.assertEqual(load_demo_cases(self.officer, self.admin), 0)
