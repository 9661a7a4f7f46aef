"""Signing in to the admin: wrong passwords are counted per username and address."""

from __future__ import annotations

from django.test import override_settings

from accounts.models import User
from tests.base import PASSWORD, BaseTestCase

LOGIN = "/admin/login/?next=/admin/"


@override_settings(AXES_FAILURE_LIMIT=3)
class AdminLoginTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.admin = User.objects.create_superuser("admin", "admin@example.org", PASSWORD)

    def sign_in(self, password: str = PASSWORD, **extra: object):  # type: ignore[no-untyped-def]
        return self.client.post(LOGIN, {"username": "admin", "password": password}, **extra)  # type: ignore[arg-type]

    def test_it_works(self) -> None:
        self.assertRedirects(self.sign_in(), "/admin/")

    def test_wrong_passwords_lock_the_username_from_that_address(self) -> None:
        for _ in range(2):
            self.assertEqual(self.sign_in("wrong").status_code, 200)
        # The third wrong password reaches the limit.
        self.assertEqual(self.sign_in("wrong").status_code, 429)
        response = self.sign_in()
        self.assertEqual(response.status_code, 429)
        self.assertNotIn("_auth_user_id", self.client.session)
        # Another address is not locked.
        self.assertRedirects(self.sign_in(REMOTE_ADDR="10.0.0.9"), "/admin/")

    def test_a_right_password_clears_the_count(self) -> None:
        for _ in range(2):
            self.sign_in("wrong")
        self.assertRedirects(self.sign_in(), "/admin/")
        self.client.logout()
        for _ in range(2):
            self.sign_in("wrong")
        self.assertRedirects(self.sign_in(), "/admin/")
