"""/cases/ and /cases/<uuid>/: law enforcement and the manager of the area see their cases
and change them through the forms; law enforcement of another area gets 404 (IDOR); a
viewer sees none; nobody signed in is sent to the sign-in page."""

from __future__ import annotations

from django.test import TestCase

from accounts.models import AccessEvent
from enforcement import actions
from enforcement.models import CaseStatus
from tests import access_scene as scene
from tests.base import PASSWORD


class CasePagesTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)
        cls.case = actions.open_case(
            cls.law, area_id=cls.area.pk, title="Shot eagle", records=[cls.eagle_obs.record_uuid]
        )
        cls.url = f"/cases/{cls.case.uuid}/"

    def as_(self, name: str) -> None:
        self.client.force_login(getattr(self, name))

    def test_the_list_shows_the_cases_of_the_users_areas(self):
        for name, sees in [("law", True), ("manager", True), ("outside_law", False), ("viewer", False)]:
            with self.subTest(user=name):
                self.as_(name)
                response = self.client.get("/cases/")
                self.assertEqual(response.status_code, 200)
                self.assertEqual("Shot eagle" in response.content.decode(), sees)

    def test_the_case_page_shows_the_linked_record_on_the_map(self):
        self.as_("law")
        response = self.client.get(self.url)
        self.assertEqual(response.status_code, 200)
        page = response.content.decode()
        self.assertIn(f'"lon": {scene.EAGLE_LON}', page)
        self.assertIn("leaflet/leaflet.js", page)
        self.assertNotIn("unpkg.com", page)
        self.assertNotIn("cdn", page.lower())

    def test_idor_another_areas_law_enforcement_gets_404(self):
        self.as_("outside_law")
        self.assertEqual(self.client.get(self.url).status_code, 404)
        response = self.client.post(f"{self.url}notes", {"text": "x"})
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.case.notes.exists())

    def test_a_viewer_sees_none(self):
        self.as_("viewer")
        self.assertEqual(self.client.get(self.url).status_code, 404)

    def test_nobody_signed_in_is_sent_to_sign_in(self):
        response = self.client.get(self.url)
        self.assertRedirects(response, f"/accounts/login/?next={self.url}", fetch_redirect_response=False)

    def test_sign_in_then_the_list(self):
        response = self.client.post(
            "/accounts/login/", {"username": "law", "password": PASSWORD, "next": "/cases/"}
        )
        self.assertRedirects(response, "/cases/", fetch_redirect_response=False)
        self.assertEqual(self.client.get("/cases/").status_code, 200)

    def test_the_manager_verifies_through_the_form(self):
        self.as_("manager")
        page = self.client.get(self.url).content.decode()
        self.assertIn('value="verified"', page)
        response = self.client.post(f"{self.url}status", {"status": "verified", "reason": "seen"})
        self.assertRedirects(response, self.url, fetch_redirect_response=False)
        self.case.refresh_from_db()
        self.assertEqual(self.case.status, CaseStatus.VERIFIED)

    def test_a_refused_transition_is_shown_with_its_code(self):
        self.as_("law")
        response = self.client.post(f"{self.url}status", {"status": "verified"})
        self.assertEqual(response.status_code, 403)
        self.assertIn("403.51", response.content.decode())

    def test_notes_and_outcome(self):
        self.as_("law")
        self.client.post(f"{self.url}notes", {"text": "Tracks lead to the village."})
        self.assertIn("Tracks lead", self.client.get(self.url).content.decode())
        response = self.client.post(f"{self.url}outcome", {"outcome": "Convicted"})
        self.assertEqual(response.status_code, 409)

    def test_a_case_opened_from_a_record(self):
        self.as_("law")
        response = self.client.post(
            "/cases/open",
            {
                "area": self.area.pk,
                "title": "Eagle shot",
                "priority": "high",
                "record": self.eagle_obs.record_uuid,
            },
        )
        self.assertEqual(response.status_code, 302)
        case = self.law_cases().get(title="Eagle shot")
        self.assertEqual(
            list(case.records.values_list("record_uuid", flat=True)), [self.eagle_obs.record_uuid]
        )
        self.assertEqual(response["Location"], f"/cases/{case.uuid}/")

    def law_cases(self):  # type: ignore[no-untyped-def]
        from enforcement.models import Case

        return Case.objects.filter(area=self.area)

    def test_no_case_is_opened_in_an_area_of_others(self):
        for name in ("outside_law", "viewer"):
            with self.subTest(user=name):
                self.as_(name)
                response = self.client.post("/cases/open", {"area": self.area.pk, "title": "x"})
                self.assertEqual(response.status_code, 403)
                self.assertIn("403.50", response.content.decode())
        self.assertEqual(self.law_cases().count(), 1)

    def test_only_illicit_records_are_linked(self):
        self.as_("law")
        response = self.client.post(f"{self.url}records", {"record": self.cassowary_obs.record_uuid})
        self.assertEqual(response.status_code, 400)
        self.assertIn("400.51", response.content.decode())
        response = self.client.post(f"{self.url}records", {"record": "not-a-uuid"})
        self.assertEqual(response.status_code, 400)

    def test_personal_data_is_shown_to_law_enforcement_and_audited(self):
        actions.add_person(self.law, self.case, name="Peter Kaupa")
        self.as_("law")
        self.assertIn("Peter Kaupa", self.client.get(self.url).content.decode())
        event = AccessEvent.objects.get(user=self.law)
        self.assertEqual(event.fields, ["name"])
        self.as_("manager")
        self.assertNotIn("Peter Kaupa", self.client.get(self.url).content.decode())
