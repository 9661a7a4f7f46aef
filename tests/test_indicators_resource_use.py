"""indicators.resource_use: records and quantities of resource use per kind and unit,
permitted or not, by purpose and by users, on a fixture counted by hand. The same tests
run on SpatiaLite and on PostGIS (DATABASE_URL)."""

from __future__ import annotations

from datetime import date

from django.test import TestCase

from indicators import compute
from indicators.models import IndicatorValue
from tests import indicator_builders as ib
from tests.builders import make_area, make_zone

MAY, JUNE = date(2024, 5, 1), date(2024, 6, 1)


def value(indicator: str, subject: str, kind: str = "M", start: date = MAY, zone: int = 0) -> float | None:
    row = IndicatorValue.objects.filter(
        indicator=indicator, subject=subject, period_kind=kind, period_start=start, zone_id=zone, cell_id=0
    ).first()
    return None if row is None else row.value


class ResourceUseTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.area = make_area()
        cls.core = make_zone(cls.area)
        ib.leg_day(cls.area, date(2024, 5, 2), km=20)
        # May: timber 3 logs (permitted, subsistence, community), 5 logs (not permitted,
        # commercial, outsiders) in the core, 2 m³ (not permitted, commercial, outsiders);
        # timber seen with no quantity; fish 12 kg with no permit answer.
        ib.resource_use(cls.area, date(2024, 5, 2), "timber", 3, "logs", True, "subsistence", "community")
        ib.resource_use(
            cls.area, date(2024, 5, 3), "timber", 5, "logs", False, "commercial", "outsiders", zone=cls.core
        )
        ib.resource_use(cls.area, date(2024, 5, 4), "timber", 2, "m3", False, "commercial", "outsiders")
        ib.resource_use(cls.area, date(2024, 5, 4), "timber")
        ib.resource_use(cls.area, date(2024, 5, 5), "fish", 12, "kg")
        # June: 4 more logs, no effort that month.
        ib.resource_use(cls.area, date(2024, 6, 1), "timber", 4, "logs", False, "commercial", "outsiders")
        compute.compute_full()

    def test_quantities_never_add_units(self) -> None:
        self.assertEqual(value("resource.quantity", "timber:logs"), 8)
        self.assertEqual(value("resource.quantity", "timber:m3"), 2)
        self.assertEqual(value("resource.quantity", "fish:kg"), 12)
        self.assertFalse(
            IndicatorValue.objects.filter(indicator="resource.quantity", subject="timber").exists()
        )

    def test_records_per_kind_whatever_the_unit(self) -> None:
        self.assertEqual(value("resource.records", "timber"), 4)
        self.assertEqual(value("resource.records", "fish"), 1)

    def test_permitted_purpose_users(self) -> None:
        self.assertEqual(value("resource.quantity", "timber:logs:permitted:yes"), 3)
        self.assertEqual(value("resource.quantity", "timber:logs:permitted:no"), 5)
        self.assertEqual(value("resource.quantity", "timber:logs:purpose:commercial"), 5)
        self.assertEqual(value("resource.quantity", "timber:logs:users:community"), 3)
        self.assertEqual(value("resource.records", "timber:permitted:no"), 2)
        self.assertEqual(value("resource.records", "timber:permitted:unknown"), 1)
        self.assertEqual(value("resource.records", "fish:permitted:unknown"), 1)
        self.assertEqual(value("resource.records", "timber:users:unknown"), 1)

    def test_zone_year_and_effort(self) -> None:
        self.assertEqual(value("resource.quantity", "timber:logs", zone=self.core.pk), 5)
        self.assertEqual(value("resource.quantity", "timber:logs", kind="Y", start=date(2024, 1, 1)), 12)
        self.assertEqual(
            value("resource.quantity", "timber:logs:permitted:no", kind="Q", start=date(2024, 4, 1)), 9
        )
        may = IndicatorValue.objects.get(
            indicator="resource.quantity", subject="timber:logs", period_kind="M", period_start=MAY, zone_id=0
        )
        self.assertEqual(may.effort, 20)
        june = IndicatorValue.objects.get(
            indicator="resource.quantity",
            subject="timber:logs",
            period_kind="M",
            period_start=JUNE,
            zone_id=0,
        )
        self.assertIsNone(june.effort)
