from tests.base import BaseTestCase


class HomeTestCase(BaseTestCase):
    def test_it_shows_the_areas_on_a_map(self):
        for user in (None, self.member, self.outsider):
            if user:
                self.client.force_login(user)
            r = self.client.get("/")
            self.assertContains(r, "Varirata National Park")
            self.assertContains(r, "leaflet")

    def test_healthz(self):
        r = self.client.get("/healthz")
        self.assertEqual(r.json(), {"status": "ok"})
