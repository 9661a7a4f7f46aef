"""GET /maps/data/context.geojson and `manage.py load_context_boundaries`: Papua New
Guinea's 22 provinces (OCHA COD-AB, read from ../shared/data) loaded as a context layer and
served, simplified, to every signed-in user (member, viewer, a manager of another area);
visitors not signed in are refused while nothing is published."""

from __future__ import annotations

import io
from typing import Any

from django.core.management import call_command
from django.test import TestCase

from maps.models import ContextBoundary
from tests import access_scene as scene
from tests.builders import SHARED_DATA

PNG_ADM1 = SHARED_DATA / "boundaries" / "png_adm1_ocha"
CONTEXT = "/maps/data/context.geojson"


class ContextBoundariesTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)
        out = io.StringIO()
        call_command("load_context_boundaries", str(PNG_ADM1), source="OCHA COD-AB 2018", stdout=out)
        cls.output = out.getvalue()

    def get(self, role: str | None, **params: Any) -> Any:
        self.client.logout()
        if role:
            self.client.force_login(getattr(self, role))
        return self.client.get(CONTEXT, params)

    def test_the_provinces_are_loaded_flat_and_simplified(self) -> None:
        self.assertIn("22 boundaries", self.output)
        central = ContextBoundary.objects.get(layer="provinces", name="Central Province")
        self.assertEqual(central.code, "PG03")
        self.assertFalse(central.boundary.hasz)
        self.assertLess(central.boundary_simplified.num_coords, central.boundary.num_coords)
        # Port Moresby's hinterland, where the scene's park lies.
        self.assertTrue(central.boundary.contains(self.area.boundary.centroid))
        # Loading again replaces the layer.
        call_command("load_context_boundaries", str(PNG_ADM1), stdout=io.StringIO())
        self.assertEqual(ContextBoundary.objects.filter(layer="provinces").count(), 22)

    def test_every_signed_in_user_gets_the_outlines(self) -> None:
        for role in ("member", "viewer", "outsider", "nobody"):
            response = self.get(role, layer="provinces")
            self.assertEqual(response.status_code, 200, role)
            body = response.json()
            self.assertEqual(len(body["features"]), 22)
            self.assertEqual(body["source"], "OCHA COD-AB 2018")
            self.assertIn("Central Province", {f["properties"]["name"] for f in body["features"]})
        # Small enough for the overview map.
        self.assertLess(len(self.get("viewer").content), 200_000)

    def test_unknown_layer_and_visitors(self) -> None:
        response = self.get("member", layer="districts")
        self.assertEqual((response.status_code, response.json()["code"]), (400, "400.92"))
        self.assertIn("provinces", response.json()["detail"])
        self.assertEqual(self.get(None).status_code, 401)

    def test_the_overview_page_names_the_layer_endpoint(self) -> None:
        self.client.force_login(self.viewer)
        page = self.client.get("/maps/")
        self.assertContains(page, f'data-context="{CONTEXT}"')
        self.assertFalse(page.context["map_options"]["public"])
