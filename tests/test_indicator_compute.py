"""indicators.compute: the SQL figures on small fixtures worked out by hand, and checked
against indicators.formulas. The same tests run on SpatiaLite and on PostGIS
(DATABASE_URL), so both give the same numbers."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

from django.test import TestCase

from indicators import compute, formulas, grid
from indicators.models import NO_ZONE, IndicatorRow, IndicatorValue
from observations.models import (
    BudgetLine,
    BudgetReturn,
    METTAssessment,
    METTScore,
)
from tests import indicator_builders as ib
from tests.builders import make_area, make_zone

MAY, JUNE, JULY = date(2024, 5, 1), date(2024, 6, 1), date(2024, 7, 1)


def value(area, indicator, subject="", kind="M", start=MAY, zone=NO_ZONE, cell=0) -> IndicatorRow | None:
    # What readers read: the stored values and the rates derived from them.
    return IndicatorRow.objects.filter(
        area=area,
        zone_id=zone,
        cell_id=cell,
        period_kind=kind,
        period_start=start,
        indicator=indicator,
        subject=subject,
    ).first()


class ComputeTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.area = make_area()
        cls.core = make_zone(cls.area)
        # May: two leg-days, 10 + 30 km, 5 + 15 field hours, 4 + 4 person-days; 6 km of the
        # second in the core zone. June: no effort at all. July: effort, nothing seen.
        ib.leg_day(cls.area, date(2024, 5, 3), km=10, field_hours=5, person_days=4)
        ib.leg_day(cls.area, date(2024, 5, 20), km=30, field_hours=15, person_days=4, zones={cls.core: 6})
        ib.leg_day(cls.area, date(2024, 7, 2), km=20, field_hours=10, person_days=2)
        # May: three snares (counts 1, 4, none → 1) and a camp; one snare in the core.
        ib.observation(cls.area, date(2024, 5, 3), count=1)
        ib.observation(cls.area, date(2024, 5, 4), count=4, zone=cls.core)
        ib.observation(cls.area, date(2024, 5, 21))
        ib.observation(cls.area, date(2024, 5, 21), category="human_activity.camp")
        # June: a snare seen with no effort (an incident report).
        ib.observation(cls.area, date(2024, 6, 9))
        # Species in May: cassowary 1, crowned pigeon 1, bird of paradise 2, hornbill... in
        # individuals: 1, 1, 2, 5 → S = 4, F1 = 2, F2 = 1.
        for taxon, n in (
            ("casuarius_casuarius", 1),
            ("goura_scheepmakeri", 1),
            ("paradisaea_raggiana", 2),
            ("probosciger_aterrimus", 5),
        ):
            ib.observation(cls.area, date(2024, 5, 10), taxon=taxon, individuals=n)
        # A carcass sold as bushmeat names a taxon but is no occurrence.
        ib.observation(cls.area, date(2024, 5, 11), taxon="goura_victoria", individuals=1, occurrence=False)
        compute.compute_full()

    def test_effort(self) -> None:
        self.assertEqual(value(self.area, "effort.km").value, 40)
        self.assertEqual(value(self.area, "effort.field_hours").value, 20)
        self.assertEqual(value(self.area, "effort.leg_days").value, 2)
        self.assertEqual(value(self.area, "effort.km", zone=self.core.pk).value, 6)
        # 15 field hours × 6/30 of the day's distance in the core.
        self.assertAlmostEqual(value(self.area, "effort.field_hours", zone=self.core.pk).value, 3)
        self.assertIsNone(value(self.area, "effort.km", start=JUNE))

    def test_quarter_and_year_sum_the_months(self) -> None:
        self.assertEqual(value(self.area, "effort.km", kind="Q", start=date(2024, 4, 1)).value, 40)
        self.assertEqual(value(self.area, "effort.km", kind="Q", start=JULY).value, 20)
        self.assertEqual(value(self.area, "effort.km", kind="Y", start=date(2024, 1, 1)).value, 60)
        self.assertEqual(
            value(
                self.area, "count.records", "category:human_activity.weapons.snare", "Y", date(2024, 1, 1)
            ).value,
            4,
        )

    def test_counts_per_subtree(self) -> None:
        self.assertEqual(value(self.area, "count.records", "category:human_activity.weapons.snare").value, 3)
        self.assertEqual(
            value(self.area, "count.individuals", "category:human_activity.weapons.snare").value, 6
        )
        self.assertEqual(value(self.area, "count.records", "category:human_activity.weapons").value, 3)
        self.assertEqual(value(self.area, "count.records", "category:human_activity").value, 4)
        self.assertEqual(value(self.area, "count.records", "vertical:illicit").value, 4)
        self.assertEqual(
            value(self.area, "count.records", "category:human_activity", zone=self.core.pk).value, 1
        )

    def test_cpue_with_its_interval(self) -> None:
        rate = value(self.area, "cpue.records.km", "category:human_activity.weapons.snare")
        expected = formulas.encounter_rate(3, 40, "km")
        # 3 snares in 40 km: 0.75 per 10 km.
        self.assertAlmostEqual(rate.value, 0.75)
        self.assertAlmostEqual(rate.lower, expected.lower)
        self.assertAlmostEqual(rate.upper, expected.upper)
        self.assertEqual((rate.numerator, rate.effort), (3, 40))
        per_hours = value(self.area, "cpue.records.field_hours", "category:human_activity.weapons.snare")
        self.assertAlmostEqual(per_hours.value, 3 / 20 * 100)
        individuals = value(
            self.area, "cpue.individuals.person_days", "category:human_activity.weapons.snare"
        )
        self.assertAlmostEqual(individuals.value, 6 / 8 * 100)

    def test_no_effort_is_no_data(self) -> None:
        rate = value(self.area, "cpue.records.km", "category:human_activity.weapons.snare", start=JUNE)
        self.assertEqual(rate.numerator, 1)
        self.assertIsNone(rate.value)
        self.assertIsNone(rate.upper)

    def test_zero_count_with_effort_is_zero_with_an_upper_bound(self) -> None:
        # July has effort and no snare: the quarter holds no snare record in July, so the
        # July month has no count row; the third quarter's rate is 0 with its bound.
        rate = value(self.area, "cpue.records.km", "category:human_activity.camp", kind="Q", start=JULY)
        self.assertIsNone(rate)  # nothing recorded in the quarter at all: no subject row
        q2 = value(
            self.area, "cpue.records.km", "category:human_activity.camp", kind="Q", start=date(2024, 4, 1)
        )
        self.assertAlmostEqual(q2.value, 1 / 40 * 10)
        zero = formulas.encounter_rate(0, 20, "km")
        self.assertEqual(zero.value, 0)
        self.assertGreater(zero.upper, 0)

    def test_biodiversity(self) -> None:
        counts = [1, 1, 2, 5]
        self.assertEqual(value(self.area, "bio.richness").value, 4)
        chao = value(self.area, "bio.chao1")
        expected = formulas.chao1(counts)
        # S = 4 + 2·1/(2·2) = 4.5
        self.assertAlmostEqual(chao.value, 4.5)
        self.assertAlmostEqual(chao.lower, expected.lower)
        self.assertAlmostEqual(chao.upper, expected.upper)
        self.assertAlmostEqual(value(self.area, "bio.chao1_variance").value, expected.variance)
        # H' = ln 9 − (2 ln 2 + 5 ln 5)/9
        h = math.log(9) - (2 * math.log(2) + 5 * math.log(5)) / 9
        self.assertAlmostEqual(value(self.area, "bio.shannon").value, h)
        self.assertAlmostEqual(value(self.area, "bio.pielou").value, formulas.pielou(counts))
        self.assertEqual(value(self.area, "bio.species", "iucn:VU").value, 1)


class Chao1WithoutDoubletonsTest(TestCase):
    def test_f2_zero(self) -> None:
        area = make_area()
        ib.leg_day(area, date(2024, 5, 3))
        for taxon, n in (
            ("casuarius_casuarius", 1),
            ("goura_scheepmakeri", 1),
            ("goura_victoria", 1),
            ("paradisaea_raggiana", 3),
        ):
            ib.observation(area, date(2024, 5, 10), taxon=taxon, individuals=n)
        compute.compute_full()
        expected = formulas.chao1([1, 1, 1, 3])
        chao = value(area, "bio.chao1")
        # F1 = 3, F2 = 0: S = 4 + 3·2/2 = 7
        self.assertAlmostEqual(chao.value, 7)
        self.assertAlmostEqual(value(area, "bio.chao1_variance").value, expected.variance)
        self.assertAlmostEqual(chao.lower, expected.lower)
        self.assertAlmostEqual(chao.upper, expected.upper)

    def test_no_singletons(self) -> None:
        area = make_area()
        for taxon, n in (("casuarius_casuarius", 2), ("goura_scheepmakeri", 4)):
            ib.observation(area, date(2024, 5, 10), taxon=taxon, individuals=n)
        compute.compute_full()
        expected = formulas.chao1([2, 4])
        chao = value(area, "bio.chao1")
        self.assertAlmostEqual(chao.value, 2)
        self.assertAlmostEqual(chao.lower, expected.lower)
        self.assertAlmostEqual(chao.upper, expected.upper)


class METTAndFinanceTest(TestCase):
    def test_mett_per_element_with_not_applicable(self) -> None:
        area = make_area()
        sub = ib.submission()
        mett = METTAssessment.objects.create(area=area, year=2024, **ib._record(sub))
        # planning: q01 = 3, q02 N/A; inputs: q03 = 1, bonus q03a = 1; q04 (planning and
        # inputs) = 2 → planning 5/6, inputs (1 + 1 + 2)/(3 + 1 + 3) = 4/7.
        for question, element, second, score, bonus in (
            ("q01", "planning", "", 3, False),
            ("q02", "planning", "", None, False),
            ("q03", "inputs", "", 1, False),
            ("q03a", "inputs", "", 1, True),
            ("q04", "planning", "inputs", 2, False),
            ("q05", "outcomes", "", None, False),
        ):
            METTScore.objects.create(
                assessment=mett,
                question=question,
                element=element,
                second_element=second,
                score=score,
                is_bonus=bonus,
            )
        compute.compute_full()
        year = date(2024, 1, 1)
        self.assertAlmostEqual(value(area, "mett.percent", "planning", "Y", year).value, 100 * 5 / 6)
        self.assertAlmostEqual(value(area, "mett.percent", "inputs", "Y", year).value, 100 * 4 / 7)
        self.assertIsNone(value(area, "mett.percent", "outcomes", "Y", year).value)
        self.assertAlmostEqual(value(area, "mett.percent", "", "Y", year).value, 100 * 7 / 10)
        scores = {"q01": 3, "q02": None, "q03": 1, "q03a": 1, "q04": 2}
        self.assertAlmostEqual(formulas.mett_score(scores).percent, 100 * 7 / 10)

    def test_finance_per_km2_never_adds_currencies(self) -> None:
        area = make_area()
        area.area_km2 = 100.0
        area.save(update_fields=["area_km2"])
        area.refresh_from_db()
        ib.leg_day(area, date(2024, 3, 1), km=50)
        for year, currency, spend in ((2024, "PGK", "5000.00"), (2023, "USD", "700.00")):
            budget = BudgetReturn.objects.create(
                area=area,
                fiscal_year=year,
                currency=currency,
                need_basic=Decimal("8000"),
                **ib._record(ib.submission()),
            )
            BudgetLine.objects.create(budget=budget, kind="spend", category="staff", actual=Decimal(spend))
            BudgetLine.objects.create(
                budget=budget, kind="income", category="government", actual=Decimal("6000")
            )
        compute.compute_full()
        km2 = area.area_km2
        pgk = value(area, "finance.spend_per_km2", "currency:PGK", "Y", date(2024, 1, 1))
        self.assertAlmostEqual(pgk.value, 5000 / km2)
        usd = value(area, "finance.spend_per_km2", "currency:USD", "Y", date(2023, 1, 1))
        self.assertAlmostEqual(usd.value, 700 / km2)
        self.assertFalse(
            IndicatorValue.objects.filter(indicator="finance.spend_per_km2", subject="currency:PGK")
            .exclude(period_start=date(2024, 1, 1))
            .exists()
        )
        self.assertAlmostEqual(
            value(area, "finance.spend_per_km", "currency:PGK", "Y", date(2024, 1, 1)).value, 100
        )
        self.assertAlmostEqual(
            value(area, "finance.gap_basic", "currency:PGK", "Y", date(2024, 1, 1)).value, 2000
        )
        with self.assertRaises(formulas.CurrencyMismatch):
            formulas.money_sum([formulas.Money(Decimal("1"), "PGK"), formulas.Money(Decimal("1"), "USD")])


class CellsTest(TestCase):
    def test_records_per_cell(self) -> None:
        area = make_area()
        grid.build_grid(area)
        ib.leg_day(area, date(2024, 5, 3))
        ib.observation(area, date(2024, 5, 3), point=(147.35, -9.43))
        ib.observation(area, date(2024, 5, 3), point=(147.3501, -9.4301))
        ib.observation(area, date(2024, 5, 3), point=(147.40, -9.40))
        compute.compute_full()
        # All verticals together (subject ""); each vertical has its rows too.
        cells = IndicatorRow.objects.filter(indicator="cell.records", subject="", period_kind="M").order_by(
            "-value"
        )
        self.assertEqual([c.value for c in cells], [2, 1])
        self.assertEqual(
            IndicatorRow.objects.get(
                indicator="cell.records", subject="", period_kind="Y", cell_id=cells[0].cell_id
            ).value,
            2,
        )
