"""indicators.accumulation: the species accumulation curve over leg-days per area and year
(observed in time order, and Mao Tau's expected curve) against indicators.formulas, on a
fixture worked out by hand. The same tests run on SpatiaLite and on PostGIS."""

from __future__ import annotations

from datetime import date

from django.test import TestCase

from indicators import compute, formulas
from indicators.models import IndicatorValue
from observations.models import Observation
from tests import indicator_builders as ib
from tests.builders import make_area

YEAR = date(2024, 1, 1)
# Leg-days in time order and the species seen on each: A B | B | (none) | A C.
SAMPLES = [
    (date(2024, 2, 1), ["casuarius_casuarius", "goura_scheepmakeri"]),
    (date(2024, 3, 5), ["goura_scheepmakeri"]),
    (date(2024, 3, 9), []),
    (date(2024, 7, 1), ["casuarius_casuarius", "paradisaea_raggiana"]),
]


def curve(area) -> list[IndicatorValue]:
    return list(
        IndicatorValue.objects.filter(area=area, indicator="bio.accumulation", period_kind="Y").order_by(
            "subject"
        )
    )


class AccumulationTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.area = make_area()
        for day, taxa in SAMPLES:
            legday = ib.leg_day(cls.area, day)
            for taxon in taxa:
                obs = ib.observation(cls.area, day, taxon=taxon, individuals=1)
                Observation.objects.filter(pk=obs.pk).update(leg_day=legday)
        # An incidental record outside every leg-day is no sample.
        ib.observation(cls.area, date(2024, 5, 5), taxon="probosciger_aterrimus", individuals=1)
        compute.compute_full()

    def test_observed_curve_in_time_order(self) -> None:
        rows = curve(self.area)
        self.assertEqual([r.subject for r in rows], ["00001", "00002", "00003", "00004"])
        self.assertEqual([r.numerator for r in rows], [2, 2, 2, 3])
        self.assertEqual(
            [r.numerator for r in rows], formulas.accumulation_curve([set(t) for _, t in SAMPLES])
        )
        self.assertEqual({r.denominator for r in rows}, {4})

    def test_expected_curve_is_mao_tau(self) -> None:
        # By hand: T = 4; A and B are in 2 samples, C in 1 → Q1 = 1, Q2 = 2.
        # S(1) = 1·(1 − 3/4) + 2·(1 − 2/4) = 1.25; S(2) = 1·(1 − 3/6) + 2·(1 − 1/6) = 2.1667;
        # S(3) = 1·(1 − 1/4) + 2·(1 − 0) = 2.75; S(4) = 3.
        rows = curve(self.area)
        expected = formulas.expected_accumulation([set(t) for _, t in SAMPLES])
        for row, want, hand in zip(rows, expected, [1.25, 0.5 + 2 * 5 / 6, 2.75, 3], strict=True):
            self.assertAlmostEqual(row.value, want, places=9)
            self.assertAlmostEqual(row.value, hand, places=9)

    def test_no_species_is_a_flat_curve(self) -> None:
        area = make_area(bounds=(147.5, -9.5, 147.6, -9.4))
        ib.leg_day(area, date(2024, 4, 1))
        compute.compute_full([area.pk])
        self.assertEqual([(r.value, r.numerator) for r in curve(area)], [(0, 0)])
