"""The admin shows boundaries and zones on Leaflet maps and saves edits drawn there."""

from __future__ import annotations

from accounts.models import User
from tests.base import BaseTestCase
from tests.builders import make_zone


class AreasAdminTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.admin = User.objects.create_superuser("root", "root@example.org", "pw-for-admin-tests")
        cls.zone = make_zone(cls.area)

    def test_area_change_page_has_leaflet_maps_for_area_and_zones(self):
        self.client.force_login(self.admin)
        r = self.client.get(f"/admin/protected_areas/protectedarea/{self.area.pk}/change/")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "leaflet")
        self.assertContains(r, 'id="id_boundary"')
        self.assertContains(r, 'id="id_zones-0-boundary"')

    def test_saving_a_polygon_drawn_on_the_map_recomputes_area(self):
        self.client.force_login(self.admin)
        url = f"/admin/protected_areas/zone/{self.zone.pk}/change/"
        self.assertContains(self.client.get(url), "leaflet")
        drawn = (
            '{"type": "MultiPolygon", "coordinates": [[[[147.32, -9.46], [147.36, -9.46], '
            "[147.36, -9.42], [147.32, -9.42], [147.32, -9.46]]]]}"
        )
        r = self.client.post(
            url,
            {"area": self.area.pk, "code": "core", "name": "Core", "kind": "core", "boundary": drawn},
        )
        self.assertEqual(r.status_code, 302, r.content[:2000])
        self.zone.refresh_from_db()
        self.assertEqual(self.zone.boundary.geom_type, "MultiPolygon")
        # 0.04° × 0.04° at 9.4° S ≈ 4.39 km × 4.42 km
        self.assertAlmostEqual(self.zone.area_km2, 19.4, delta=0.3)

    def test_staff_without_permission_and_rangers_are_kept_out(self):
        for user in (self.member, self.collector, self.outsider):
            self.client.force_login(user)
            r = self.client.get(f"/admin/protected_areas/protectedarea/{self.area.pk}/change/")
            self.assertEqual(r.status_code, 302)
