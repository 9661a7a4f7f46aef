"""The admin pages of collector tokens: list and revoke."""

from __future__ import annotations

from accounts.models import CollectorToken, User
from tests.base import PASSWORD, BaseTestCase

URL = "/admin/accounts/collectortoken/"


class CollectorTokenAdminTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.admin = User.objects.create_superuser("admin", "admin@example.org", PASSWORD)
        cls.token = CollectorToken.objects.create(user=cls.collector, label="Tablet 1")

    def test_it_lists_tokens_without_showing_them_whole(self) -> None:
        self.client.force_login(self.admin)
        r = self.client.get(URL)
        self.assertContains(r, "Tablet 1")
        self.assertContains(r, self.token.token[:6])
        self.assertNotContains(r, self.token.token)

    def test_revoke_action(self) -> None:
        self.client.force_login(self.admin)
        r = self.client.post(URL, {"action": "revoke", "_selected_action": [self.token.pk]}, follow=True)
        self.assertContains(r, "1 token(s) revoked.")
        self.token.refresh_from_db()
        self.assertIsNotNone(self.token.revoked_at)

    def test_it_is_for_staff_only(self) -> None:
        self.client.force_login(self.owner)
        r = self.client.get(URL)
        self.assertEqual(r.status_code, 302)
