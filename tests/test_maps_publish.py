"""Publishing to visitors not signed in (settings.FIELDKIT_PUBLISH_INDICATORS): off by
default, the home page, the overview map and its data send them to sign in; on, they see the
overview coloured by the published indicators of every area, and nothing else (no other
indicator, no points, no tracks, no dashboards). Signed-in users (member, viewer, a manager
of another area) keep what their roles open either way."""

from __future__ import annotations

from typing import Any

from django.test import TestCase, override_settings

from tests import access_scene as scene
from tests.test_maps_pages import value

AREAS = "/maps/data/areas.geojson"
PUBLISHED = ["effort.km|"]


class PublishTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)
        value(cls.area, "effort.km", 42.0)
        value(cls.other_area, "effort.km", 120.5)
        value(cls.area, "count.records", 7.0, "vertical:illicit")

    def get(self, role: str | None, url: str, **params: Any) -> Any:
        self.client.logout()
        if role:
            self.client.force_login(getattr(self, role))
        return self.client.get(url, params)

    def test_off_by_default_visitors_sign_in(self) -> None:
        for url in ("/", "/maps/", "/maps/?indicator=effort.km|"):
            response = self.get(None, url)
            self.assertEqual(response.status_code, 302, url)
            self.assertTrue(response["Location"].startswith("/accounts/login/?next="), url)
        self.assertEqual(self.get(None, AREAS, indicator="effort.km|", year=2024).status_code, 401)
        self.assertEqual(self.get(None, "/maps/data/context.geojson").status_code, 401)

    @override_settings(FIELDKIT_PUBLISH_INDICATORS=PUBLISHED)
    def test_on_visitors_see_the_published_choropleth_only(self) -> None:
        self.assertRedirects(self.get(None, "/"), "/maps/", fetch_redirect_response=False)
        page = self.get(None, "/maps/")
        self.assertEqual(page.status_code, 200)
        self.assertEqual(page.context["indicators"], [("effort.km|", "Patrol effort: km")])
        self.assertEqual(page.context["years"], [2024])
        self.assertTrue(page.context["map_options"]["public"])
        self.assertNotContains(page, 'href="/maps/areas/')
        self.assertContains(page, "Sign in")
        body = self.get(None, AREAS, indicator="effort.km|", year=2024).json()
        values = {f["properties"]["name"]: f["properties"]["value"] for f in body["features"]}
        self.assertEqual(values, {self.area.name: 42.0, self.other_area.name: 120.5})
        # Anything else: not published.
        response = self.get(None, AREAS, indicator="count.records|vertical:illicit", year=2024)
        self.assertEqual((response.status_code, response.json()["code"]), (403, "403.90"))
        for url in ("/maps/data/observations.geojson", "/maps/data/tracks.geojson"):
            self.assertEqual(self.get(None, url).status_code, 401, url)
        for url in (f"/maps/areas/{self.area.pk}/", "/maps/species/", "/maps/enforcement/"):
            self.assertEqual(self.get(None, url).status_code, 302, url)
        self.assertIn(self.get(None, f"/api/v1/indicators/?area={self.area.pk}").status_code, (401, 403))

    @override_settings(FIELDKIT_PUBLISH_INDICATORS=PUBLISHED)
    def test_signed_in_users_keep_their_own_view(self) -> None:
        member = self.get("member", "/maps/")
        self.assertGreater(len(member.context["indicators"]), 1)
        self.assertFalse(member.context["map_options"]["public"])
        self.assertContains(member, f'href="/maps/areas/{self.area.pk}/"')
        # The manager of the other area reads only its own area's figures, published or not.
        body = self.get("outsider", AREAS, indicator="effort.km|", year=2024).json()
        shared = {f["properties"]["name"]: f["properties"]["shared"] for f in body["features"]}
        self.assertEqual(shared, {self.area.name: False, self.other_area.name: True})
        viewer = self.get("viewer", AREAS, indicator="count.records|vertical:illicit", year=2024).json()
        values = {f["properties"]["name"]: f["properties"]["value"] for f in viewer["features"]}
        self.assertEqual(values, {self.area.name: 7.0, self.other_area.name: None})
        self.assertEqual(self.get("viewer", "/").status_code, 200)
