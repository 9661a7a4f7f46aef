"""indicators.evidence: METT scores suggested by field data (mett.suggested), worked out by
hand from effort, coverage and a budget return, and never touching the assessors' scores.
The same tests run on SpatiaLite and on PostGIS (DATABASE_URL)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.test import TestCase

from indicators import compute, evidence, grid
from indicators.api import IndicatorValueSerializer
from indicators.models import GridCell, IndicatorValue
from observations.models import BudgetLine, BudgetReturn, METTAssessment, METTScore
from protected_areas.models import ProtectedArea
from tests import indicator_builders as ib
from tests.builders import make_area

YEAR = date(2024, 1, 1)
TRACK = [(147.3505, -9.47), (147.3505, -9.44)]


def suggested(area, question: str) -> IndicatorValue | None:
    return IndicatorValue.objects.filter(
        area=area, indicator="mett.suggested", subject=question, period_kind="Y", period_start=YEAR
    ).first()


class EvidenceTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.area = make_area()
        ProtectedArea.objects.filter(pk=cls.area.pk).update(area_km2=200.0)
        grid.build_grid(cls.area)
        # Patrols in 10 months of 2024, 12 person-days each → 120 person-days, 60 per 100 km².
        for month in range(1, 11):
            ib.leg_day(cls.area, date(2024, month, 5), km=3.3, person_days=12, track=TRACK)
        sub = ib.submission()
        budget = BudgetReturn.objects.create(
            area=cls.area,
            fiscal_year=2024,
            staff_count=3,
            need_basic=Decimal("10000"),
            need_optimal=Decimal("20000"),
            **ib._record(sub),
        )
        # Income 12 000 (at least the basic need, below the optimal): government 3 000 and
        # own revenue 1 200 are secure, 4 200 / 12 000 = 35 %.
        for category, amount in (("government", "3000"), ("own_revenue", "1200"), ("donor", "7800")):
            BudgetLine.objects.create(budget=budget, kind="income", category=category, actual=Decimal(amount))
        mett = METTAssessment.objects.create(area=cls.area, year=2024, **ib._record(sub))
        METTScore.objects.create(assessment=mett, question="q15", element="inputs", score=3)
        compute.compute_full()

    def test_budget_adequacy_follows_the_answer_texts(self) -> None:
        row = suggested(self.area, "q15")
        self.assertEqual((row.value, row.numerator, row.denominator, row.upper), (2, 12000, 10000, 20000))

    def test_budget_security(self) -> None:
        row = suggested(self.area, "q16")
        self.assertEqual((row.numerator, row.denominator), (4200, 12000))
        self.assertEqual(row.value, 1)  # 35 %: between the 25 % and 50 % cuts

    def test_staff_numbers(self) -> None:
        row = suggested(self.area, "q13")
        self.assertEqual((row.numerator, row.denominator), (3, 200))
        self.assertEqual(row.value, 3)  # 1.5 per 100 km², above the 1.0 cut

    def test_law_enforcement_and_protection_from_effort(self) -> None:
        q03 = suggested(self.area, "q03")
        self.assertAlmostEqual(q03.numerator, 120)
        self.assertEqual(q03.value, 2)  # 60 person-days per 100 km²: between 50 and 200
        q10 = suggested(self.area, "q10")
        cells = IndicatorValue.objects.get(indicator="coverage.cells", period_kind="Y")
        self.assertEqual((q10.numerator, q10.denominator), (cells.numerator, cells.denominator))
        self.assertEqual(q10.denominator, GridCell.objects.filter(area=self.area).count())
        self.assertEqual(q10.value, 0)  # a 3 km track covers few of the area's cells

    def test_monitoring_from_months_with_patrols(self) -> None:
        row = suggested(self.area, "q26")
        self.assertEqual((row.value, row.numerator, row.denominator), (2, 10, 12))

    def test_assessors_scores_are_left_alone(self) -> None:
        self.assertEqual(METTScore.objects.get(question="q15").score, 3)
        self.assertEqual(
            IndicatorValue.objects.get(indicator="mett.percent", subject="", period_kind="Y").value, 100
        )

    def test_rationale(self) -> None:
        row = suggested(self.area, "q15")
        text = evidence.rationale(
            row.subject, row.value, row.numerator, row.denominator, row.upper, row.effort
        )
        self.assertIn("not the assessors' score", text)
        self.assertIn("12,000", text)
        self.assertIn("suggested score 2", text)
        self.assertEqual(IndicatorValueSerializer(row).data["rationale"], text)

    def test_no_income_is_no_budget(self) -> None:
        area = make_area(bounds=(147.5, -9.5, 147.6, -9.4))
        BudgetReturn.objects.create(
            area=area, fiscal_year=2024, need_basic=Decimal("500"), **ib._record(ib.submission())
        )
        compute.compute_full([area.pk])
        self.assertEqual(suggested(area, "q15").value, 0)
        self.assertIsNone(suggested(area, "q16"))
        self.assertIsNone(suggested(area, "q03"))
