"""/reports/areas/<id>/<year>.pdf: the donor report, made on the server with WeasyPrint from
the indicator tables. Checked as a reader would: its text (pdftotext) holds the area, the
year, the figures and the limits of the data; its pages (pdftoppm) carry the map and the
charts; owner, member and viewer may read it, an outsider and a collector get 404."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from accounts.models import AccessEvent, Role
from indicators import compute, grid
from indicators.models import NO_CELL, NO_ZONE, IndicatorValue, PeriodKind
from tests import indicator_builders as ib
from tests.base import BaseTestCase
from tests.builders import make_zone

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")

SNARE = "human_activity.weapons.snare"


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def pdf_pages(data: bytes) -> list[Image.Image]:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "r.pdf").write_bytes(data)
        subprocess.run(["pdftoppm", "-r", "50", "-png", "r.pdf", "page"], cwd=folder, check=True)
        return [Image.open(p).convert("RGB") for p in sorted(Path(folder).glob("page-*.png"))]


def pixels_like(page: Image.Image, colour: tuple[int, int, int], tolerance: int = 40) -> int:
    data = page.tobytes()
    return sum(
        1
        for at in range(0, len(data), 3)
        if all(abs(data[at + i] - colour[i]) <= tolerance for i in range(3))
    )


def _value(area, indicator, subject, year, value, num=None, den=None) -> None:  # type: ignore[no-untyped-def]
    IndicatorValue.objects.create(
        area=area, zone_id=NO_ZONE, cell_id=NO_CELL, period_kind=PeriodKind.YEAR,
        period_start=date(year, 1, 1), indicator=indicator, subject=subject, value=value,
        numerator=num, denominator=den,
    )  # fmt: skip


class AreaReportTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.viewer = cls._user("viewer", cls.area, Role.VIEWER)
        make_zone(cls.area, "core", name="Core zone")
        for month in (3, 4, 5, 9, 10):
            ib.leg_day(cls.area, date(2024, month, 12), km=12)
        for month in (4, 9):
            ib.observation(cls.area, date(2024, month, 12), category=SNARE, point=(147.35, -9.43))
        ib.leg_day(cls.area, date(2023, 6, 2), km=20)
        grid.ensure_grids([cls.area.pk])
        compute.compute_full()
        for year, total, planning in ((2023, 58.3, 55.6), (2024, 68.8, 70.4)):
            _value(cls.area, "mett.percent", "", year, total, total, 100)
            _value(cls.area, "mett.percent", "planning", year, planning, planning, 100)
        _value(cls.area, "finance.budget_per_km2", "currency:PGK", 2024, 2631, 28400, 10.8)
        _value(cls.area, "finance.spend_per_km2", "currency:PGK", 2024, 2538, 27400, 10.8)
        _value(cls.area, "finance.spend", "currency:PGK:patrol_operations", 2024, 5700, 5700)
        _value(cls.area, "finance.gap_basic", "currency:PGK", 2024, 17800, 29200, 47000)

    def get(self, user, area=None, year: int = 2024):  # type: ignore[no-untyped-def]
        self.client.force_login(user)
        return self.client.get(f"/reports/areas/{(area or self.area).pk}/{year}.pdf")

    def test_it_works(self):
        response = self.get(self.owner)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/pdf")
        text = pdf_text(response.content)
        for expected in (
            "Varirata National Park",
            "Report for 2024",
            "Key figures, 2024",
            "60 km",  # five leg-days of 12 km
            "+40 km on the year before",
            "Illicit activity per 10 km",
            "METT score",
            "69 %",
            "against the 2023 assessment",
            "27 400 PGK",
            "planned 28 400 PGK",
            "Gap to the basic need",
            "17 800",
            "Limits of the data",
            "Months of 2024 without patrol effort: Jan, Feb, Jun, Jul, Aug, Nov, Dec.",
            "Core zone",
        ):
            self.assertIn(expected, " ".join(text.split()), expected)
        pages = pdf_pages(response.content)
        self.assertGreaterEqual(len(pages), 2)
        # The map's boundary (#2e7d32) and shaded cells (#c62828) on page 1; the effort line
        # (#1565c0) of the charts after it.
        self.assertGreater(pixels_like(pages[0], (0x2E, 0x7D, 0x32)), 100)
        self.assertGreater(pixels_like(pages[0], (0xD0, 0x60, 0x60), tolerance=60), 20)
        self.assertGreater(sum(pixels_like(page, (0x15, 0x65, 0xC0)) for page in pages[1:]), 100)

    def test_members_and_viewers_read_it_and_nothing_is_audited(self):
        for user in (self.member, self.viewer):
            self.assertEqual(self.get(user).status_code, 200)
        self.assertFalse(AccessEvent.objects.exists())

    def test_it_validates_ownership(self):
        self.assertEqual(self.get(self.outsider).status_code, 404)
        self.assertEqual(self.get(self.collector).status_code, 404)
        self.assertEqual(self.get(self.owner, area=self.other_area).status_code, 404)
        self.assertEqual(self.get(self.outsider, area=self.other_area).status_code, 200)

    def test_a_year_without_indicators_says_so(self):
        text = pdf_text(self.get(self.owner, year=2019).content)
        self.assertIn("No indicators were computed for 2019", text)
        self.assertIn("No patrol effort was recorded in 2019", " ".join(text.split()))
        self.assertEqual(self.get(self.owner, year=1066).status_code, 404)

    def test_anonymous_is_sent_to_sign_in(self):
        response = self.client.get(f"/reports/areas/{self.area.pk}/2024.pdf")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])

    def test_a_month_or_year_with_effort_and_no_record_has_a_rate_of_zero(self):
        # Effort in March, May and October 2024 but no snare: a rate of 0, with Garwood's
        # interval for no event (0 to 3.689 per the effort), not a gap as for January.
        from reports import donor

        context = donor.context(self.area, 2024)
        series = context["rate_series"][0]
        self.assertEqual(series.name, "Illicit activity")
        months = [date(y, m, 1) for y in (2022, 2023, 2024) for m in range(1, 13)]
        march, january = months.index(date(2024, 3, 1)), months.index(date(2024, 1, 1))
        self.assertEqual((series.values[march], series.lower[march]), (0.0, 0.0))
        self.assertAlmostEqual(series.upper[march], 3.689 / 12 * 10, 2)
        self.assertIsNone(series.values[january])
        self.assertGreater(series.values[months.index(date(2024, 4, 1))], 0)
        # No resource use in 2024, over 60 km: 0.00, up to 3.689 / 60 km × 10.
        card = next(c for c in context["cards"] if c.label == "Resource use per 10 km")
        self.assertEqual((card.value, card.note), ("0.00", "95 % interval 0.00–0.61"))
        self.assertIn("95 % interval 0.00–0.61", pdf_text(self.get(self.owner).content))

    def test_the_limits_count_the_quality_flags_of_the_year(self):
        from observations.models import Observation, QAFlag

        snare = Observation.objects.filter(area=self.area, day__year=2024).first()
        assert snare is not None
        sub = snare.submission
        for code in ("junk_fix", "junk_fix", "impossible_speed"):
            QAFlag.objects.create(submission=sub, root_submission=sub, code=code, observation=snare)
        text = " ".join(pdf_text(self.get(self.owner).content).split())
        self.assertIn("3 quality flags on the records and patrols of 2024:", text)
        self.assertRegex(text, r"\(2\); [^()]+ \(1\)\. Flagged records are counted")
        text = " ".join(pdf_text(self.get(self.owner, year=2023).content).split())
        self.assertIn("No quality flags on the records and patrols of 2023.", text)

    def test_the_mett_table_gives_the_previous_overall_score(self):
        text = " ".join(pdf_text(self.get(self.owner).content).split())
        self.assertIn("Overall 69 % 58 %", text)

    def test_the_map_says_when_no_cell_is_shaded(self):
        text = " ".join(pdf_text(self.get(self.owner).content).split())
        self.assertIn("grid cells shaded by the illicit-activity records found in them in 2024", text)
        text = " ".join(pdf_text(self.get(self.owner, year=2023).content).split())
        self.assertNotIn("grid cells shaded", text)
        self.assertIn("no illicit-activity record is mapped to a grid cell in 2023", text)


def test_no_zone_is_drawn_in_the_colours_of_the_boundary_or_of_the_shaded_cells():
    import re

    from reports import charts

    square = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]
    zones = [(f"Zone {n}", [square]) for n in range(8)]
    svg = charts.area_map([square], zones, [charts.Cell(square, 1.0)])
    dashed = re.findall(r'stroke="(#[0-9a-f]{6})" stroke-width="1" stroke-dasharray', svg)
    assert len(dashed) == 8
    assert {"#2e7d32", "#c62828"} & set(dashed) == set()


def test_shaded_cells_that_reach_past_the_boundary_are_drawn_whole():
    import re

    from reports import charts

    square = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]
    # A cell whose north-west corner lies outside the boundary's extent.
    cell = [(-0.3, 0.7), (0.2, 0.7), (0.2, 1.2), (-0.3, 1.2), (-0.3, 0.7)]
    svg = charts.area_map([square], [], [charts.Cell(cell, 1.0)], width=520, height=300)
    legend = 44
    for points in re.findall(r'<polygon points="([^"]+)"', svg):
        for pair in points.split():
            x, y = (float(v) for v in pair.split(","))
            assert 0 <= x <= 520 and 0 <= y <= 300 - legend, (x, y)
