"""Signing in to the OpenRosa endpoints as ODK Collect does: Digest after a 401, or a token URL."""

from __future__ import annotations

import time
from typing import Any

from axes.models import AccessAttempt
from defusedxml import ElementTree
from django.http import HttpResponse
from django.test import override_settings
from django.utils import timezone

from accounts import openrosa_auth
from accounts.models import CollectorToken
from odk_forms.models import Submission
from tests.base import PASSWORD, BaseTestCase
from tests.test_openrosa_auth import basic_authorization, digest_authorization, parse_challenge
from tests.xml_builders import FORMLIST_NS, make_form, make_instance, submission_body

OPENROSA = {"HTTP_X_OPENROSA_VERSION": "1.0"}


def form_ids(response: HttpResponse) -> list[str]:
    root = ElementTree.fromstring(response.content)
    return [node.text or "" for node in root.iter(f"{FORMLIST_NS}formID")]


class EndpointAuthTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        make_form(areas=[cls.area], form_id="patrol", title="Patrol")
        make_form(areas=[cls.other_area], form_id="tonda_patrol", title="Tonda patrol")
        cls.token = CollectorToken.objects.create(user=cls.collector, label="Tablet 1")

    def digest(
        self, method: str, path: str, username: str, password: str = PASSWORD, **extra: Any
    ) -> HttpResponse:
        """Two round trips, as Collect makes them: the 401 challenge, then the signed request."""
        first = self.client.generic(method, path, **OPENROSA)
        self.assertEqual(first.status_code, 401)
        challenge = parse_challenge(first["WWW-Authenticate"])
        header = digest_authorization(challenge, method, path, username, password)
        return self.client.generic(method, path, HTTP_AUTHORIZATION=header, **OPENROSA, **extra)


class DigestEndpointTestCase(EndpointAuthTestCase):
    def test_form_list_challenges_then_works(self) -> None:
        r = self.client.get("/formList", **OPENROSA)
        self.assertEqual(r.status_code, 401)
        self.assertTrue(r["WWW-Authenticate"].startswith('Digest realm="fieldkit", qop="auth"'))
        self.assertNotIn("Basic", r["WWW-Authenticate"])

        r = self.digest("GET", "/formList", "collector")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(form_ids(r), ["patrol"])

    def test_outsider_does_not_see_the_area_forms(self) -> None:
        r = self.digest("GET", "/formList", "outsider")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(form_ids(r), ["tonda_patrol"])

    def test_head_submission(self) -> None:
        r = self.digest("HEAD", "/submission", "collector")
        self.assertEqual(r.status_code, 204)
        self.assertIn("X-OpenRosa-Accept-Content-Length", r)

    def test_wrong_password_gets_a_fresh_challenge(self) -> None:
        r = self.digest("GET", "/formList", "collector", password="wrong")
        self.assertEqual(r.status_code, 401)
        self.assertIn(b"Wrong username or password.", r.content)
        self.assertNotIn("stale", r["WWW-Authenticate"])

    def test_expired_nonce_is_answered_stale(self) -> None:
        challenge = parse_challenge(self.client.get("/formList", **OPENROSA)["WWW-Authenticate"])
        challenge["nonce"] = openrosa_auth.make_nonce(time.time() - openrosa_auth.NONCE_TTL - 5)
        header = digest_authorization(challenge, "GET", "/formList", "collector", PASSWORD)
        r = self.client.get("/formList", HTTP_AUTHORIZATION=header, **OPENROSA)
        self.assertEqual(r.status_code, 401)
        self.assertIn("stale=true", r["WWW-Authenticate"])

    def test_basic_over_http_is_refused(self) -> None:
        r = self.client.get("/formList", HTTP_AUTHORIZATION=basic_authorization("collector", PASSWORD))
        self.assertEqual(r.status_code, 401)
        self.assertTrue(r["WWW-Authenticate"].startswith("Digest "))
        self.assertNotIn("Basic", r["WWW-Authenticate"])

    def test_basic_over_https(self) -> None:
        r = self.client.get("/formList", secure=True, **OPENROSA)
        self.assertEqual(r.status_code, 401)
        self.assertIn(', Basic realm="fieldkit"', r["WWW-Authenticate"])
        auth = basic_authorization("collector", PASSWORD)
        r = self.client.get("/formList", secure=True, HTTP_AUTHORIZATION=auth, **OPENROSA)
        self.assertEqual(form_ids(r), ["patrol"])


class TokenEndpointTestCase(EndpointAuthTestCase):
    def test_form_list(self) -> None:
        r = self.client.get(f"/key/{self.token.token}/formList", **OPENROSA)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(form_ids(r), ["patrol"])
        # Download links keep the token, or Collect could not fetch the form.
        self.assertIn(f"/key/{self.token.token}/forms/".encode(), r.content)

    def test_head_submission(self) -> None:
        r = self.client.head(f"/key/{self.token.token}/submission", **OPENROSA)
        self.assertEqual(r.status_code, 204)

    def test_submission(self) -> None:
        r = self.client.post(
            f"/key/{self.token.token}/submission", submission_body(make_instance()), **OPENROSA
        )
        self.assertEqual(r.status_code, 201)

    def test_st_query_parameter(self) -> None:
        r = self.client.get("/formList", {"st": self.token.token}, **OPENROSA)
        self.assertEqual(form_ids(r), ["patrol"])

    def test_bad_token_is_403_without_challenge(self) -> None:
        for path in ("/key/not-a-token/formList", "/key/not-a-token/submission"):
            r = self.client.get(path, **OPENROSA)
            self.assertEqual(r.status_code, 403)
            self.assertNotIn("WWW-Authenticate", r)
            self.assertIn(b"ask your administrator for a new QR code", r.content)

    def test_revoked_token_is_403(self) -> None:
        CollectorToken.objects.filter(pk=self.token.pk).update(revoked_at=timezone.now())
        r = self.client.head(f"/key/{self.token.token}/submission", **OPENROSA)
        self.assertEqual(r.status_code, 403)
        self.assertNotIn("WWW-Authenticate", r)


class ReplayEndpointTestCase(EndpointAuthTestCase):
    def test_a_captured_submission_header_cannot_send_another_record(self) -> None:
        challenge = parse_challenge(self.client.get("/submission", **OPENROSA)["WWW-Authenticate"])
        header = digest_authorization(challenge, "POST", "/submission", "collector", PASSWORD)
        first = self.client.post(
            "/submission", submission_body(make_instance()), HTTP_AUTHORIZATION=header, **OPENROSA
        )
        self.assertEqual(first.status_code, 201)
        replay = self.client.post(
            "/submission", submission_body(make_instance()), HTTP_AUTHORIZATION=header, **OPENROSA
        )
        self.assertEqual(replay.status_code, 401)
        self.assertIn(b"[401.35]", replay.content)
        retry = parse_challenge(replay["WWW-Authenticate"])
        self.assertEqual(retry["stale"], "true")
        self.assertEqual(Submission.objects.count(), 1)
        # The phone signs again with the fresh nonce and is through.
        header = digest_authorization(retry, "POST", "/submission", "collector", PASSWORD)
        again = self.client.post(
            "/submission", submission_body(make_instance()), HTTP_AUTHORIZATION=header, **OPENROSA
        )
        self.assertEqual(again.status_code, 201)


@override_settings(AXES_FAILURE_LIMIT=3)
class LockoutEndpointTestCase(EndpointAuthTestCase):
    def test_a_locked_out_phone_is_told_why_without_a_password_prompt(self) -> None:
        for _ in range(3):
            self.assertEqual(self.digest("GET", "/formList", "collector", password="wrong").status_code, 401)
        r = self.digest("GET", "/formList", "collector")
        self.assertEqual(r.status_code, 429)
        self.assertNotIn("WWW-Authenticate", r)
        self.assertIn(b"Too many wrong passwords for", r.content)
        self.assertIn(b"[429.30]", r.content)
        self.assertEqual(r["X-OpenRosa-Version"], "1.0")

    def test_a_phone_sending_records_is_not_locked_out(self) -> None:
        # As ODK Collect does: a 401 challenge, then every request signed with the nonce and
        # a rising count, each submission preceded by a HEAD.
        challenge = parse_challenge(self.client.head("/submission", **OPENROSA)["WWW-Authenticate"])
        nc = 0
        for _ in range(25):
            for method in ("HEAD", "POST"):
                nc += 1
                header = digest_authorization(
                    challenge, method, "/submission", "collector", PASSWORD, nc=f"{nc:08x}"
                )
                if method == "HEAD":
                    r = self.client.head("/submission", HTTP_AUTHORIZATION=header, **OPENROSA)
                    self.assertEqual(r.status_code, 204)
                else:
                    body = submission_body(make_instance())
                    r = self.client.post("/submission", body, HTTP_AUTHORIZATION=header, **OPENROSA)
                    self.assertEqual(r.status_code, 201)
        self.assertEqual(Submission.objects.count(), 25)
        self.assertFalse(AccessAttempt.objects.exists())
