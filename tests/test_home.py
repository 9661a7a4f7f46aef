from tests.base import BaseTestCase


class HomeTestCase(BaseTestCase):
    def test_it_shows_the_areas_on_a_map(self):
        for user in (self.member, self.outsider):
            self.client.force_login(user)
            r = self.client.get("/")
            self.assertContains(r, "Varirata National Park")
            self.assertContains(r, "leaflet")

    def test_visitors_sign_in_first(self):
        self.assertRedirects(self.client.get("/"), "/accounts/login/?next=/", fetch_redirect_response=False)

    def test_healthz(self):
        r = self.client.get("/healthz")
        self.assertEqual(r.json(), {"status": "ok"})
