"""Signing in to the REST API: Basic only over https, and wrong passwords counted."""

from __future__ import annotations

from django.test import override_settings

from tests.base import PASSWORD, BaseTestCase
from tests.xml_builders import basic_auth, make_form

URL = "/api/v1/forms/"


class ApiBasicTestCase(BaseTestCase):
    def setUp(self) -> None:
        make_form([self.area])

    def get(self, password: str = PASSWORD, secure: bool = True, **extra: object):  # type: ignore[no-untyped-def]
        return self.client.get(URL, secure=secure, HTTP_AUTHORIZATION=basic_auth("member", password), **extra)  # type: ignore[arg-type]

    def test_it_works_over_https(self) -> None:
        response = self.get()
        self.assertEqual(response.status_code, 200)
        self.assertEqual([f["xml_form_id"] for f in response.json()["results"]], ["patrol"])

    def test_it_is_refused_over_http(self) -> None:
        # The password crossed the network in clear already; at least it opens nothing.
        response = self.get(secure=False)
        self.assertIn(response.status_code, (401, 403))
        self.assertEqual(
            response.json()["detail"],
            "Basic authentication sends the password in clear: the API accepts it only over https.",
        )

    @override_settings(AXES_FAILURE_LIMIT=3)
    def test_wrong_passwords_lock_the_username_from_that_address(self) -> None:
        for _ in range(3):
            self.assertIn(self.get("wrong").status_code, (401, 403))
        self.assertIn(self.get().status_code, (401, 403))
        self.assertEqual(self.get(REMOTE_ADDR="10.0.0.9").status_code, 200)

    def test_an_overlong_username_is_refused(self) -> None:
        response = self.client.get(URL, secure=True, HTTP_AUTHORIZATION=basic_auth("x" * 300, "wrong"))
        self.assertIn(response.status_code, (401, 403))
