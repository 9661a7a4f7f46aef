"""/api/v1/indicators/: the stored values of the user's areas, filtered, with the change
from the previous period; owner, member and outsider."""

from __future__ import annotations

from datetime import date

from indicators import compute
from tests import indicator_builders as ib
from tests.base import BaseTestCase


class IndicatorsApiTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        ib.leg_day(cls.area, date(2024, 4, 3), km=10)
        ib.leg_day(cls.area, date(2024, 5, 3), km=40)
        ib.observation(cls.area, date(2024, 5, 3))
        ib.leg_day(cls.other_area, date(2024, 5, 3), km=7)
        compute.compute_full()

    def get(self, user, query: str = ""):  # type: ignore[no-untyped-def]
        self.client.force_login(user)
        return self.client.get(f"/api/v1/indicators/{query}")

    def test_it_works(self) -> None:
        r = self.get(self.owner, "?indicator=effort.km&period_kind=M")
        self.assertEqual(r.status_code, 200)
        rows = r.json()["results"]
        self.assertEqual(
            [(row["period_start"], row["value"]) for row in rows], [("2024-04-01", 10), ("2024-05-01", 40)]
        )
        self.assertEqual(rows[0]["zone"], None)
        self.assertIsNone(rows[0]["change"])
        self.assertEqual(rows[1]["change"], 30)
        self.assertEqual((rows[1]["previous"], rows[1]["change_percent"]), (10, 300))
        self.assertIsNone(rows[0]["previous"])
        self.assertIsNone(rows[1]["rationale"])

    def test_trend_needs_the_period_just_before(self) -> None:
        # Quarters: Q2 only (April and May both fall in it): no previous quarter.
        rows = self.get(self.owner, "?indicator=effort.km&period_kind=Q").json()["results"]
        self.assertEqual([(r["value"], r["previous"], r["change"]) for r in rows], [(50, None, None)])
        # A filter that leaves out April leaves May without a previous value.
        rows = self.get(self.owner, "?indicator=effort.km&period_kind=M&start=2024-05-01").json()["results"]
        self.assertEqual([(r["value"], r["previous"]) for r in rows], [(40, None)])

    def test_it_filters(self) -> None:
        r = self.get(
            self.member,
            "?indicator=cpue.records.km&subject=category:human_activity.weapons.snare&start=2024-05-01&end=2024-05-31",
        )
        rows = r.json()["results"]
        self.assertEqual(
            [(row["period_kind"], row["value"], row["effort"]) for row in rows], [("M", 10 / 40, 40)]
        )
        self.assertIsNotNone(rows[0]["upper"])

    def test_it_validates_ownership(self) -> None:
        r = self.get(self.outsider, "?indicator=effort.km&period_kind=M")
        self.assertEqual([row["value"] for row in r.json()["results"]], [7])
        r = self.get(self.outsider, f"?area={self.area.pk}")
        self.assertEqual(r.json()["count"], 0)
        self.client.logout()
        self.assertIn(self.client.get("/api/v1/indicators/").status_code, (401, 403))
