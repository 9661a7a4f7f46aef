"""/maps/, /maps/areas/<id>/ and /maps/data/areas.geojson: the overview and the area
dashboard for the area's member and viewer, a manager of another area, law enforcement and
nobody signed in; the choropleth's values, "no data" kept apart from zero."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.test import TestCase

from indicators import grid
from indicators.models import NO_CELL, NO_ZONE, CellFigure, GridCell, IndicatorValue, PeriodKind
from tests import access_scene as scene

AREAS = "/maps/data/areas.geojson"


def value(area: Any, indicator: str, amount: float | None, subject: str = "", year: int = 2024) -> None:
    IndicatorValue.objects.create(
        area=area,
        zone_id=NO_ZONE,
        cell_id=NO_CELL,
        period_kind=PeriodKind.YEAR,
        period_start=date(year, 1, 1),
        indicator=indicator,
        subject=subject,
        value=amount,
    )


class MapPagesTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)
        value(cls.area, "effort.km", 0.0)
        value(cls.other_area, "effort.km", 120.5)
        value(cls.area, "cpue.records.km", None, "vertical:illicit")
        value(cls.area, "finance.spend_per_km2", 310.0, "currency:PGK")
        value(cls.area, "finance.spend", 999.0, "currency:PGK:equipment")

    def get(self, role: str | None, url: str, **params: Any) -> Any:
        self.client.logout()
        if role:
            self.client.force_login(getattr(self, role))
        return self.client.get(url, params)

    def figures(self, role: str, indicator: str) -> dict[str, Any]:
        body = self.get(role, AREAS, indicator=indicator, year=2024).json()
        return {f["properties"]["name"]: f["properties"] for f in body["features"]}

    def test_zero_is_a_value_and_a_rate_without_effort_is_no_data(self) -> None:
        shown = self.figures("viewer", "effort.km|")
        self.assertEqual(shown[self.area.name]["value"], 0.0)
        self.assertTrue(shown[self.area.name]["shared"])
        shown = self.figures("viewer", "cpue.records.km|vertical:illicit")
        self.assertIsNone(shown[self.area.name]["value"])
        self.assertIsNone(self.figures("viewer", "bio.richness|")[self.area.name]["value"])

    def test_another_areas_figures_are_not_shared(self) -> None:
        shown = self.figures("viewer", "effort.km|")
        other = shown[self.other_area.name]
        self.assertEqual((other["shared"], other["value"]), (False, None))
        self.assertEqual(self.figures("outsider", "effort.km|")[self.other_area.name]["value"], 120.5)
        self.assertIsNone(self.figures("outsider", "effort.km|")[self.area.name]["value"])
        self.assertEqual(self.figures("national_viewer", "effort.km|")[self.other_area.name]["value"], 120.5)

    def test_each_area_in_its_own_currency(self) -> None:
        shown = self.figures("member", "finance.spend_per_km2|currency")
        self.assertEqual(
            (shown[self.area.name]["value"], shown[self.area.name]["subject"]), (310.0, "currency:PGK")
        )

    def test_bad_choices_are_explained(self) -> None:
        for params in ({"indicator": "nope|", "year": 2024}, {"indicator": "effort.km|", "year": "last"}):
            response = self.get("viewer", AREAS, **params)
            self.assertEqual((response.status_code, response.json()["code"]), (400, "400.91"))
        self.assertEqual(self.get(None, AREAS, year=2024).status_code, 401)

    def test_the_overview_page(self) -> None:
        response = self.get("viewer", "/maps/")
        self.assertContains(response, "Illicit activity: records per 10 km")
        self.assertContains(response, '<option value="2024">2024</option>', html=True)
        self.assertContains(response, self.other_area.name)
        self.assertEqual(self.get(None, "/maps/").status_code, 302)

    def test_the_dashboard_opens_for_readers_of_the_area_only(self) -> None:
        url = f"/maps/areas/{self.area.pk}/"
        for role in ("member", "manager", "viewer", "law", "national_viewer", "admin"):
            response = self.get(role, url)
            self.assertContains(response, self.area.name, msg_prefix=role)
            self.assertContains(response, 'id="chart-rate"', msg_prefix=role)
        for role in ("outsider", "collector", "nobody"):
            self.assertEqual(self.get(role, url).status_code, 404, role)
        self.assertEqual(self.get(None, url).status_code, 302)
        self.assertEqual(self.get("admin", "/maps/areas/999999/").status_code, 404)


class SpeciesAndEnforcementPagesTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)
        grid.build_grid(cls.area)
        cell = GridCell.objects.filter(area=cls.area).order_by("pk").first()
        assert cell is not None
        CellFigure.objects.create(
            area=cls.area,
            cell_id=cell.pk,
            period_kind=PeriodKind.YEAR,
            period_start=date(2024, 1, 1),
            records=4,
            records_illicit=4,
        )

    def get(self, role: str | None, url: str, **params: Any) -> Any:
        self.client.logout()
        if role:
            self.client.force_login(getattr(self, role))
        return self.client.get(url, params)

    def test_species_page(self) -> None:
        url = f"/maps/species/{self.eagle.slug}/"
        response = self.get("viewer", url)
        self.assertContains(response, self.eagle.scientific_name)
        self.assertContains(response, 'id="sensitive-note"')
        self.assertEqual([r["records"] for r in response.context["records"]], [1])
        self.assertEqual(self.get("outsider", url).context["records"], [])
        self.assertEqual(self.get("viewer", "/maps/species/no-such-taxon/").status_code, 404)
        self.assertEqual(self.get(None, url).status_code, 302)
        index = self.get("viewer", "/maps/species/")
        self.assertContains(index, self.eagle.scientific_name)
        self.assertNotContains(self.get("outsider", "/maps/species/"), self.eagle.scientific_name)

    def test_species_filter_on_the_map_data(self) -> None:
        self.client.force_login(self.viewer)
        body = self.client.get(
            "/maps/data/observations.geojson",
            {"taxon": self.eagle.slug, "bbox": "147.2,-9.6,147.6,-9.3", "zoom": 16},
        ).json()
        self.assertEqual([f["id"] for f in body["features"]], [self.eagle_obs.pk])
        self.assertTrue(body["features"][0]["properties"]["dataGeneralizations"])

    def test_enforcement_map(self) -> None:
        for role in ("law", "viewer", "manager", "national_law", "admin"):
            self.assertEqual(self.get(role, "/maps/enforcement/").status_code, 200, role)
        response = self.get("law", "/maps/enforcement/")
        self.assertEqual([h["records"] for h in response.context["hotspots"]], [4.0])
        self.assertContains(response, 'href="/cases/"')
        self.assertEqual(self.get("outside_law", "/maps/enforcement/").context["hotspots"], [])
        for role in ("collector", "nobody"):
            self.assertEqual(self.get(role, "/maps/enforcement/").status_code, 404, role)
        self.assertEqual(self.get(None, "/maps/enforcement/").status_code, 302)

    def test_home_leads_to_what_the_roles_open(self) -> None:
        law = self.get("law", "/")
        self.assertContains(law, 'href="/maps/enforcement/"')
        self.assertContains(law, 'href="/cases/"')
        self.assertContains(law, f'href="/maps/areas/{self.area.pk}/"')
        self.assertContains(law, 'href="/exports/"')
        viewer = self.get("viewer", "/")
        self.assertNotContains(viewer, 'href="/cases/"')
        self.assertContains(viewer, 'href="/exports/"')
        # A collector exports nothing: no link to the exports page.
        self.assertNotContains(self.get("collector", "/"), 'href="/exports/"')
        self.assertNotContains(viewer, f'href="/maps/areas/{self.other_area.pk}/"')
        # Nothing published (the default): visitors sign in first.
        self.assertRedirects(self.get(None, "/"), "/accounts/login/?next=/", fetch_redirect_response=False)

    def test_every_page_has_the_sites_bar(self) -> None:
        # The same links on the maps, the case pages and the exports page.
        for url in ("/maps/", "/cases/", "/exports/"):
            with self.subTest(url=url):
                page = self.get("law", url)
                self.assertEqual(page.status_code, 200)
                self.assertContains(page, '<header class="bar">', count=1)
                self.assertNotContains(page, "site's bar")  # the template's comment stays out
                for href in ("/maps/", "/maps/enforcement/", "/cases/", "/exports/"):
                    self.assertContains(page, f'<a href="{href}">')
        viewer = self.get("viewer", "/exports/")
        self.assertContains(viewer, '<a href="/exports/">')
        self.assertNotContains(viewer, '<a href="/cases/">')
