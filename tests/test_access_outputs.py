"""Sensitive points and personal data in every output: the observations API (JSON and
GeoJSON), the admin's HTML pages and the photos' EXIF. A viewer never receives the exact
point nor a suspect's name; law enforcement of the area does, and leaves an audit row."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.test import TestCase
from django.urls import reverse

from accounts.generalisation import gps_of
from accounts.models import AccessEvent, AppendOnly
from observations.models import SensitivityRule
from odk_forms.models import Attachment
from tests import access_scene as scene

EXACT = [f"{scene.EAGLE_LON}", f"{scene.EAGLE_LAT}", "147.3612", "-9.4231", "147.361270", "-9.423180"]


class AccessOutputsTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)

    def setUp(self) -> None:
        # MEDIA_ROOT is a fresh directory per test (conftest): the stored photo is put back.
        stored = Attachment.objects.get(submission=self.submission, name=scene.PHOTO)
        path = Path(settings.MEDIA_ROOT) / stored.file.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.photo_bytes)

    def get(self, user, url: str):  # type: ignore[no-untyped-def]
        self.client.force_login(user)
        return self.client.get(url, HTTP_USER_AGENT="test-agent/1")

    def assert_no_exact_point(self, body: bytes) -> None:
        text = body.decode("utf-8", "replace")
        for needle in EXACT:
            self.assertNotIn(needle, text)

    # --- JSON / GeoJSON ----------------------------------------------------------------------

    def test_a_viewer_gets_the_cell_centre_in_the_list_and_the_detail(self) -> None:
        listed = self.get(self.viewer, "/api/v1/observations/")
        self.assertEqual(listed.status_code, 200)
        self.assert_no_exact_point(listed.content)
        self.assertEqual(listed.json()["type"], "FeatureCollection")
        detail = self.get(self.viewer, f"/api/v1/observations/{self.eagle_obs.pk}/")
        self.assertEqual(detail.status_code, 200)
        self.assert_no_exact_point(detail.content)
        feature = detail.json()
        # Medium: the centre of the 0.01° cell [147.36, 147.37) × [-9.43, -9.42).
        self.assertEqual(feature["geometry"]["coordinates"], [147.365, -9.425])
        props = feature["properties"]
        self.assertGreaterEqual(props["coordinateUncertaintyInMeters"], 780)
        self.assertIn("0.01° grid cell", props["dataGeneralizations"])
        self.assertIsNone(props["zone"])
        # Personal data: counts, not names.
        self.assertEqual(props["illicit"]["suspects"], 1)
        self.assertNotIn("suspect_names", props["illicit"])
        self.assertNotIn("observer", props)
        self.assertNotIn(scene.SUSPECT, detail.content.decode())
        self.assertNotIn(scene.OBSERVER, detail.content.decode())
        self.assertFalse(AccessEvent.objects.exists())

    def test_law_enforcement_of_the_area_sees_the_exact_point_and_the_names(self) -> None:
        response = self.get(self.law, f"/api/v1/observations/{self.eagle_obs.pk}/")
        self.assertEqual(response.status_code, 200)
        feature = response.json()
        self.assertEqual(feature["geometry"]["coordinates"], [scene.EAGLE_LON, scene.EAGLE_LAT])
        self.assertEqual(feature["properties"]["illicit"]["suspect_names"], scene.SUSPECT)
        self.assertEqual(feature["properties"]["observer"], scene.OBSERVER)

    def test_a_law_enforcement_view_of_a_suspects_name_leaves_an_audit_row(self) -> None:
        self.get(self.law, f"/api/v1/observations/{self.eagle_obs.pk}/")
        event = AccessEvent.objects.get()
        self.assertEqual(event.user, self.law)
        self.assertEqual(event.username, "law")
        self.assertEqual(event.object_type, "observations.observation")
        self.assertEqual(event.object_id, str(self.eagle_obs.pk))
        self.assertEqual(event.fields, ["location", "observer", "suspect_names"])
        self.assertEqual(event.area, self.area)
        self.assertEqual(event.ip, "127.0.0.1")
        self.assertEqual(event.user_agent, "test-agent/1")

    def test_law_enforcement_reads_illicit_records_only(self) -> None:
        ids = [f["id"] for f in self.get(self.law, "/api/v1/observations/").json()["features"]]
        self.assertEqual(ids, [self.eagle_obs.pk])
        response = self.get(self.law, f"/api/v1/observations/{self.cassowary_obs.pk}/")
        self.assertEqual(response.status_code, 404)

    def test_law_enforcement_of_another_area_gets_404(self) -> None:
        response = self.get(self.outside_law, f"/api/v1/observations/{self.eagle_obs.pk}/")
        self.assertEqual(response.status_code, 404)
        self.assert_no_exact_point(response.content)

    def test_national_law_enforcement_sees_every_area(self) -> None:
        response = self.get(self.national_law, f"/api/v1/observations/{self.eagle_obs.pk}/")
        self.assertEqual(response.json()["properties"]["illicit"]["suspect_names"], scene.SUSPECT)

    def test_a_member_sees_exact_points_and_no_names(self) -> None:
        feature = self.get(self.member, f"/api/v1/observations/{self.eagle_obs.pk}/").json()
        self.assertEqual(feature["geometry"]["coordinates"], [scene.EAGLE_LON, scene.EAGLE_LAT])
        self.assertNotIn("suspect_names", feature["properties"]["illicit"])
        self.assertNotIn("observer", feature["properties"])
        self.assertEqual(AccessEvent.objects.get().fields, ["location"])

    def test_a_manager_reads_ranger_names_not_suspects(self) -> None:
        feature = self.get(self.manager, f"/api/v1/observations/{self.eagle_obs.pk}/").json()
        self.assertEqual(feature["properties"]["observer"], scene.OBSERVER)
        self.assertNotIn("suspect_names", feature["properties"]["illicit"])

    def test_an_area_rule_raises_an_open_taxon(self) -> None:
        url = f"/api/v1/observations/{self.cassowary_obs.pk}/"
        open_point = self.get(self.viewer, url).json()["geometry"]["coordinates"]
        self.assertEqual(open_point, [scene.CASSOWARY_LON, scene.CASSOWARY_LAT])
        SensitivityRule.objects.create(taxon=self.cassowary, area=self.area, level=2)
        response = self.get(self.viewer, url)
        self.assertEqual(response.json()["geometry"]["coordinates"], [147.35, -9.45])
        self.assertNotIn(str(scene.CASSOWARY_LON), response.content.decode())

    def test_a_rule_of_another_area_changes_nothing_here(self) -> None:
        SensitivityRule.objects.create(taxon=self.cassowary, area=self.other_area, level=1)
        feature = self.get(self.viewer, f"/api/v1/observations/{self.cassowary_obs.pk}/").json()
        self.assertEqual(feature["geometry"]["coordinates"], [scene.CASSOWARY_LON, scene.CASSOWARY_LAT])

    def test_a_national_rule_can_withhold_the_point(self) -> None:
        SensitivityRule.objects.create(taxon=self.eagle, national=True, level=1)
        feature = self.get(self.viewer, f"/api/v1/observations/{self.eagle_obs.pk}/").json()
        self.assertIsNone(feature["geometry"])
        self.assertIn("withheld", feature["properties"]["informationWithheld"])

    def test_a_rule_never_lowers_the_taxon_default(self) -> None:
        SensitivityRule.objects.create(taxon=self.eagle, area=self.area, level=4)  # low: 0.001°
        feature = self.get(self.viewer, f"/api/v1/observations/{self.eagle_obs.pk}/").json()
        self.assertEqual(feature["geometry"]["coordinates"], [147.365, -9.425])

    # --- HTML ------------------------------------------------------------------------------------

    def test_the_admin_page_shows_a_viewer_the_cell_and_no_names(self) -> None:
        url = reverse("admin:observations_observation_change", args=[self.eagle_obs.pk])
        response = self.get(self.viewer, url)
        self.assertEqual(response.status_code, 200)
        self.assert_no_exact_point(response.content)
        self.assertContains(response, "-9.425000, 147.365000")
        self.assertNotContains(response, scene.SUSPECT)
        self.assertNotContains(response, scene.OBSERVER)
        self.assertFalse(AccessEvent.objects.exists())

    def test_the_admin_page_shows_law_enforcement_everything_and_audits_it(self) -> None:
        url = reverse("admin:observations_observation_change", args=[self.eagle_obs.pk])
        response = self.get(self.law, url)
        self.assertContains(response, "-9.423180, 147.361270")
        self.assertContains(response, scene.SUSPECT)
        self.assertEqual(AccessEvent.objects.get().fields, ["location", "observer", "suspect_names"])

    def test_the_admin_of_another_area_answers_404(self) -> None:
        url = reverse("admin:observations_observation_change", args=[self.eagle_obs.pk])
        self.assertEqual(self.get(self.outsider, url).status_code, 404)

    def test_a_viewer_cannot_search_records_by_observer(self) -> None:
        url = reverse("admin:observations_observation_changelist") + f"?q={scene.OBSERVER}"
        response = self.get(self.viewer, url)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "0 observations")

    # --- Photos ------------------------------------------------------------------------------------

    def test_a_photo_served_to_a_viewer_carries_no_gps(self) -> None:
        self.assertTrue(gps_of(self.photo_bytes))  # the test photo has them
        url = f"/api/v1/observations/{self.eagle_obs.pk}/photos/{scene.PHOTO}"
        response = self.get(self.viewer, url)
        self.assertEqual(response.status_code, 200)
        served = b"".join(response) if response.streaming else response.content
        self.assertEqual(gps_of(served), {})
        # The image data is copied, not re-encoded; the stored original keeps its tags.
        scan, original_scan = served.index(b"\xff\xda"), self.photo_bytes.index(b"\xff\xda")
        self.assertEqual(served[scan:], self.photo_bytes[original_scan:])
        stored = Attachment.objects.get(submission=self.submission, name=scene.PHOTO)
        with stored.file.open("rb") as handle:
            self.assertEqual(handle.read(), self.photo_bytes)

    def test_a_photo_served_to_law_enforcement_keeps_its_gps_and_is_audited(self) -> None:
        url = f"/api/v1/observations/{self.eagle_obs.pk}/photos/{scene.PHOTO}"
        response = self.get(self.law, url)
        self.assertEqual(response.content, self.photo_bytes)
        event = AccessEvent.objects.get()
        self.assertEqual((event.action, event.fields), ("download", ["photo_gps"]))

    def test_a_photo_of_another_area_is_404(self) -> None:
        url = f"/api/v1/observations/{self.eagle_obs.pk}/photos/{scene.PHOTO}"
        self.assertEqual(self.get(self.outsider, url).status_code, 404)

    # --- Audit trail ------------------------------------------------------------------------------

    def test_access_events_are_append_only(self) -> None:
        self.get(self.law, f"/api/v1/observations/{self.eagle_obs.pk}/")
        event = AccessEvent.objects.get()
        event.username = "someone else"
        with self.assertRaises(AppendOnly):
            event.save()
        with self.assertRaises(AppendOnly):
            event.delete()
        with self.assertRaises(AppendOnly):
            AccessEvent.objects.filter(pk=event.pk).update(username="x")
        with self.assertRaises(AppendOnly):
            AccessEvent.objects.all().delete()
        self.assertEqual(AccessEvent.objects.get().username, "law")

    def test_managers_of_the_area_read_its_audit_trail_in_the_admin(self) -> None:
        self.get(self.law, f"/api/v1/observations/{self.eagle_obs.pk}/")
        url = reverse("admin:accounts_accessevent_changelist")
        self.assertContains(self.get(self.manager, url), "suspect_names")
        self.assertNotContains(self.get(self.outsider, url), "suspect_names")
        self.assertEqual(self.get(self.viewer, url).status_code, 403)
        event = AccessEvent.objects.get()
        change = reverse("admin:accounts_accessevent_change", args=[event.pk])
        response = self.client.post(change, {"username": "x"})
        self.assertIn(response.status_code, (403, 302))
        delete = reverse("admin:accounts_accessevent_delete", args=[event.pk])
        self.assertEqual(self.client.post(delete, {"post": "yes"}).status_code, 403)
        self.assertEqual(AccessEvent.objects.get().username, "law")

    def test_nothing_personal_in_the_list_for_a_viewer(self) -> None:
        body = json.dumps(self.get(self.viewer, "/api/v1/observations/").json())
        self.assertNotIn(scene.SUSPECT, body)
        self.assertNotIn(scene.OBSERVER, body)
