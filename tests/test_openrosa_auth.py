"""authenticate() and challenge_headers(): what ODK Collect, Enketo and Briefcase meet."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from datetime import timedelta
from unittest import mock

from axes.models import AccessAttempt
from django.http import HttpRequest
from django.test import RequestFactory, TransactionTestCase, override_settings
from django.utils import timezone

from accounts import openrosa_auth
from accounts.models import CollectorToken, DigestNonce, User, digest_ha1
from accounts.openrosa_auth import authenticate, challenge_headers
from fieldkit.errors import Problem
from tests.base import PASSWORD, BaseTestCase


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324


def parse_challenge(header: str) -> dict[str, str]:
    """The Digest parameters of a WWW-Authenticate value, read the way okhttp-digest does."""
    assert header.startswith("Digest ")
    return {
        name.lower(): value.strip('"')
        for name, value in re.findall(r'([\w-]+)=("[^"]*"|[^\s,]+)', header[len("Digest ") :])
    }


def digest_authorization(
    challenge: dict[str, str],
    method: str,
    uri: str,
    username: str,
    password: str,
    nc: str = "00000001",
    cnonce: str = "0a4f113b",
) -> str:
    """What a client sends back (RFC 2617 §3.2.2, qop=auth)."""
    realm, nonce = challenge["realm"], challenge["nonce"]
    ha1 = md5(f"{username}:{realm}:{password}")
    ha2 = md5(f"{method}:{uri}")
    response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    return (
        f'Digest username="{username}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{response}", qop=auth, nc={nc}, cnonce="{cnonce}", algorithm=MD5, '
        f'opaque="{challenge["opaque"]}"'
    )


def basic_authorization(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class AuthTestCase(BaseTestCase):
    def setUp(self) -> None:
        self.factory = RequestFactory()

    def digest_request(
        self,
        path: str = "/formList",
        method: str = "GET",
        username: str = "collector",
        password: str = PASSWORD,
        uri: str | None = None,
        challenge: dict[str, str] | None = None,
        **extra: object,
    ) -> HttpRequest:
        """Ask for a challenge, then answer it, like Collect after its first 401."""
        if challenge is None:
            first = self.factory.generic(method, path)
            challenge = parse_challenge(challenge_headers(first)["WWW-Authenticate"])
        header = digest_authorization(challenge, method, uri or path, username, password)
        return self.factory.generic(method, path, HTTP_AUTHORIZATION=header, **extra)

    def signed(
        self,
        challenge: dict[str, str],
        nc: str,
        path: str = "/formList",
        method: str = "GET",
        **extra: object,
    ) -> HttpRequest:
        """A request signed with a challenge already in use, as a client sends its next ones."""
        header = digest_authorization(challenge, method, path, "collector", PASSWORD, nc=nc)
        return self.factory.generic(method, path, HTTP_AUTHORIZATION=header, **extra)

    def assertProblem(self, request: HttpRequest, code: str, token: str | None = None) -> Problem:
        with self.assertRaises(Problem) as caught:
            authenticate(request, token)
        self.assertEqual(caught.exception.code, code)
        return caught.exception


class ChallengeTestCase(AuthTestCase):
    def test_it_offers_digest_over_http(self) -> None:
        header = challenge_headers(self.factory.get("/formList"))["WWW-Authenticate"]
        challenge = parse_challenge(header)
        self.assertEqual(challenge["realm"], "fieldkit")
        self.assertEqual(challenge["qop"], "auth")
        self.assertEqual(challenge["algorithm"], "MD5")
        self.assertTrue(challenge["nonce"])
        self.assertTrue(challenge["opaque"])
        self.assertNotIn("stale", challenge)
        self.assertNotIn("Basic", header)

    def test_it_adds_basic_after_digest_over_https(self) -> None:
        header = challenge_headers(self.factory.get("/formList", secure=True))["WWW-Authenticate"]
        self.assertTrue(header.startswith("Digest "))
        self.assertIn(', Basic realm="fieldkit"', header)
        self.assertLess(header.index("Digest"), header.index("Basic"))

    def test_nonces_differ(self) -> None:
        request = self.factory.get("/formList")
        first = parse_challenge(challenge_headers(request)["WWW-Authenticate"])["nonce"]
        second = parse_challenge(challenge_headers(request)["WWW-Authenticate"])["nonce"]
        self.assertNotEqual(first, second)

    def test_realm_comes_from_settings(self) -> None:
        with override_settings(OPENROSA_REALM="png-cepa"):
            header = challenge_headers(self.factory.get("/formList"))["WWW-Authenticate"]
        self.assertEqual(parse_challenge(header)["realm"], "png-cepa")


class DigestTestCase(AuthTestCase):
    def test_it_works(self) -> None:
        request = self.digest_request()
        # The lockout count, the user, the nonce count, and (on a nonce's first use)
        # forgetting nonces that expired.
        with self.assertNumQueries(4):
            user = authenticate(request, None)
        self.assertEqual(user, self.collector)

    def test_a_nonce_in_use_costs_three_queries(self) -> None:
        challenge = parse_challenge(challenge_headers(self.factory.get("/x"))["WWW-Authenticate"])
        authenticate(self.signed(challenge, nc="00000001"), None)
        with self.assertNumQueries(3):
            self.assertEqual(authenticate(self.signed(challenge, nc="00000002"), None), self.collector)

    def test_it_works_for_head_and_post_with_query(self) -> None:
        self.assertEqual(authenticate(self.digest_request("/submission", "HEAD"), None), self.collector)
        request = self.digest_request("/formList?formID=patrol", username="owner")
        self.assertEqual(authenticate(request, None), self.owner)

    def test_it_rejects_wrong_password(self) -> None:
        problem = self.assertProblem(self.digest_request(password="wrong"), "401.31")
        self.assertEqual(problem.status, 401)
        self.assertEqual(problem.message, "Wrong username or password.")

    def test_it_rejects_unknown_user(self) -> None:
        self.assertProblem(self.digest_request(username="nobody"), "401.31")

    def test_it_checks_the_uri(self) -> None:
        # An answer signed for /formList must not open /submission.
        self.assertProblem(self.digest_request("/submission", "HEAD", uri="/formList"), "401.31")
        self.assertProblem(self.digest_request("/formList?formID=a", uri="/formList?formID=b"), "401.31")

    def test_it_checks_the_method(self) -> None:
        challenge = parse_challenge(challenge_headers(self.factory.get("/x"))["WWW-Authenticate"])
        header = digest_authorization(challenge, "GET", "/submission", "collector", PASSWORD)
        request = self.factory.post("/submission", HTTP_AUTHORIZATION=header)
        self.assertProblem(request, "401.31")

    def test_expired_nonce_is_stale(self) -> None:
        challenge = parse_challenge(challenge_headers(self.factory.get("/x"))["WWW-Authenticate"])
        challenge["nonce"] = openrosa_auth.make_nonce(time.time() - openrosa_auth.NONCE_TTL - 1)
        request = self.digest_request(challenge=challenge)

        problem = self.assertProblem(request, "401.32")
        self.assertEqual(problem.status, 401)
        retry = parse_challenge(challenge_headers(request)["WWW-Authenticate"])
        self.assertEqual(retry["stale"], "true")
        # The client signs again with the fresh nonce, without asking the user.
        again = self.digest_request(challenge=retry)
        self.assertEqual(authenticate(again, None), self.collector)

    def test_forged_nonce_is_not_stale(self) -> None:
        challenge = parse_challenge(challenge_headers(self.factory.get("/x"))["WWW-Authenticate"])
        stamp, salt, _ = challenge["nonce"].split(".")
        challenge["nonce"] = f"{int(stamp) - 3600}.{salt}.{'0' * 32}"
        request = self.digest_request(challenge=challenge)
        self.assertProblem(request, "401.31")
        self.assertNotIn("stale", challenge_headers(request)["WWW-Authenticate"])

    def test_nonce_from_another_secret_key_is_refused(self) -> None:
        with override_settings(SECRET_KEY="another-deployment"):
            request = self.digest_request()
        self.assertProblem(request, "401.31")

    def test_it_rejects_another_realm(self) -> None:
        challenge = parse_challenge(challenge_headers(self.factory.get("/x"))["WWW-Authenticate"])
        challenge["realm"] = "elsewhere"
        self.assertProblem(self.digest_request(challenge=challenge), "401.31")

    def test_it_requires_qop_auth(self) -> None:
        challenge = parse_challenge(challenge_headers(self.factory.get("/x"))["WWW-Authenticate"])
        ha1 = md5(f"collector:fieldkit:{PASSWORD}")
        response = md5(f"{ha1}:{challenge['nonce']}:{md5('GET:/formList')}")  # RFC 2069 style
        header = (
            f'Digest username="collector", realm="fieldkit", nonce="{challenge["nonce"]}", '
            f'uri="/formList", response="{response}"'
        )
        self.assertProblem(self.factory.get("/formList", HTTP_AUTHORIZATION=header), "401.31")

    def test_it_refuses_inactive_user(self) -> None:
        User.objects.filter(pk=self.collector.pk).update(is_active=False)
        self.assertProblem(self.digest_request(), "401.34")

    def test_user_without_ha1_cannot_use_digest(self) -> None:
        User.objects.filter(pk=self.collector.pk).update(digest_ha1="")
        self.assertProblem(self.digest_request(), "401.31")

    def test_user_with_unusable_password_cannot_use_digest(self) -> None:
        self.collector.set_unusable_password()
        self.collector.save()
        self.assertProblem(self.digest_request(), "401.31")

    def test_it_does_not_hash_with_pbkdf2(self) -> None:
        request = self.digest_request()
        with mock.patch.object(User, "check_password") as check_password:
            authenticate(request, None)
        check_password.assert_not_called()

    def test_users_made_by_create_user_and_createsuperuser_have_ha1(self) -> None:
        # Django's managers store the password hash without calling set_password().
        User.objects.create_superuser("chief", "chief@example.org", PASSWORD)
        self.assertEqual(authenticate(self.digest_request(username="chief"), None).username, "chief")
        self.assertEqual(User.objects.create_user("nopass").digest_ha1, "")

    def test_non_ascii_password(self) -> None:
        self.member.set_password("kumul bilong mi – ö")
        self.member.save()
        request = self.digest_request(username="member", password="kumul bilong mi – ö")
        self.assertEqual(authenticate(request, None), self.member)

    def test_missing_credentials(self) -> None:
        problem = self.assertProblem(self.factory.get("/formList"), "401.30")
        self.assertEqual(problem.status, 401)
        self.assertProblem(self.factory.get("/formList", HTTP_AUTHORIZATION="Bearer abc"), "401.30")
        self.assertProblem(self.factory.get("/formList", HTTP_AUTHORIZATION="Digest garbage"), "401.31")


class BasicTestCase(AuthTestCase):
    def test_it_refuses_basic_over_http(self) -> None:
        request = self.factory.get("/formList", HTTP_AUTHORIZATION=basic_authorization("owner", PASSWORD))
        problem = self.assertProblem(request, "401.33")
        self.assertEqual(problem.status, 401)
        header = challenge_headers(request)["WWW-Authenticate"]
        self.assertTrue(header.startswith("Digest "))
        self.assertNotIn("Basic", header)

    def test_it_works_over_https(self) -> None:
        request = self.factory.get(
            "/formList", secure=True, HTTP_AUTHORIZATION=basic_authorization("owner", PASSWORD)
        )
        # The lockout count and the user.
        with mock.patch.object(User, "check_password") as check_password, self.assertNumQueries(2):
            self.assertEqual(authenticate(request, None), self.owner)
        check_password.assert_not_called()

    def test_it_rejects_wrong_password_over_https(self) -> None:
        request = self.factory.get(
            "/formList", secure=True, HTTP_AUTHORIZATION=basic_authorization("owner", "wrong")
        )
        self.assertProblem(request, "401.31")
        bad = self.factory.get("/formList", secure=True, HTTP_AUTHORIZATION="Basic !!!")
        self.assertProblem(bad, "401.31")

    def test_it_falls_back_to_the_password_hash_without_ha1(self) -> None:
        User.objects.filter(pk=self.owner.pk).update(digest_ha1="")
        request = self.factory.get(
            "/formList", secure=True, HTTP_AUTHORIZATION=basic_authorization("owner", PASSWORD)
        )
        self.assertEqual(authenticate(request, None), self.owner)

    def test_it_refuses_inactive_user(self) -> None:
        User.objects.filter(pk=self.owner.pk).update(is_active=False)
        request = self.factory.get(
            "/formList", secure=True, HTTP_AUTHORIZATION=basic_authorization("owner", PASSWORD)
        )
        self.assertProblem(request, "401.34")

    def test_forwarded_proto_is_ignored_by_default(self) -> None:
        request = self.factory.get(
            "/formList",
            HTTP_AUTHORIZATION=basic_authorization("owner", PASSWORD),
            HTTP_X_FORWARDED_PROTO="https",
        )
        with override_settings(SECURE_PROXY_SSL_HEADER=None):
            self.assertProblem(request, "401.33")
            self.assertNotIn("Basic", challenge_headers(request)["WWW-Authenticate"])

    def test_forwarded_proto_is_trusted_when_configured(self) -> None:
        request = self.factory.get(
            "/formList",
            HTTP_AUTHORIZATION=basic_authorization("owner", PASSWORD),
            HTTP_X_FORWARDED_PROTO="https",
        )
        with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
            self.assertEqual(authenticate(request, None), self.owner)
            self.assertIn(", Basic ", challenge_headers(request)["WWW-Authenticate"])


class TokenTestCase(AuthTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.token = CollectorToken.objects.create(user=cls.collector, label="Tablet 1")

    def test_it_works(self) -> None:
        request = self.factory.get(f"/key/{self.token.token}/formList")
        self.assertEqual(authenticate(request, self.token.token), self.collector)
        self.token.refresh_from_db()
        self.assertIsNotNone(self.token.last_used)

    def test_it_is_one_query_once_last_used_is_fresh(self) -> None:
        CollectorToken.objects.filter(pk=self.token.pk).update(last_used=timezone.now())
        request = self.factory.get(f"/key/{self.token.token}/formList")
        with self.assertNumQueries(1):
            self.assertEqual(authenticate(request, self.token.token), self.collector)

    def test_it_takes_the_st_query_parameter(self) -> None:
        request = self.factory.get("/formList", {"st": self.token.token})
        self.assertEqual(authenticate(request, None), self.collector)

    def test_the_path_token_wins_over_credentials(self) -> None:
        # A token URL never falls back to a password prompt, even with a bad token.
        request = self.digest_request("/key/nope/formList")
        problem = self.assertProblem(request, "403.30", token="nope")
        self.assertEqual(problem.status, 403)

    def test_unknown_token_is_403(self) -> None:
        problem = self.assertProblem(self.factory.get("/key/x/formList"), "403.30", token="x" * 43)
        self.assertEqual(problem.status, 403)
        self.assertEqual(
            problem.message, "This collector link is not valid; ask your administrator for a new QR code."
        )
        self.assertProblem(self.factory.get("/formList", {"st": ""}), "403.30")
        self.assertProblem(self.factory.get("/formList"), "403.30", token="y" * 500)

    def test_revoked_token_is_403(self) -> None:
        CollectorToken.objects.filter(pk=self.token.pk).update(revoked_at=timezone.now())
        self.assertProblem(self.factory.get("/formList"), "403.30", token=self.token.token)

    def test_token_of_inactive_user_is_403(self) -> None:
        User.objects.filter(pk=self.collector.pk).update(is_active=False)
        self.assertProblem(self.factory.get("/formList"), "403.30", token=self.token.token)


class DigestCredentialLifecycleTestCase(BaseTestCase):
    def test_unusable_password_and_rename_clear_ha1(self):
        user = User.objects.get(pk=self.collector.pk)
        self.assertTrue(user.digest_ha1)
        user.set_unusable_password()
        self.assertEqual(user.digest_ha1, "")

        user.set_password("another long password")
        user.save()
        user = User.objects.get(pk=user.pk)
        user.username = "renamed"
        user.save()
        self.assertEqual(User.objects.get(pk=user.pk).digest_ha1, "")
        user.set_password("another long password")
        user.save()
        self.assertEqual(
            User.objects.get(pk=user.pk).digest_ha1,
            digest_ha1("renamed", "fieldkit", "another long password"),
        )


class NonceCountTestCase(AuthTestCase):
    """A captured Authorization header must not open another request: each nonce's count
    (nc) has to rise, in a table every worker process shares."""

    def setUp(self) -> None:
        super().setUp()
        self.challenge = parse_challenge(challenge_headers(self.factory.get("/x"))["WWW-Authenticate"])

    def test_a_replayed_header_is_refused(self) -> None:
        header = self.signed(self.challenge, nc="00000001").META["HTTP_AUTHORIZATION"]
        self.assertEqual(
            authenticate(self.factory.get("/formList", HTTP_AUTHORIZATION=header), None), self.collector
        )
        replay = self.factory.get("/formList", HTTP_AUTHORIZATION=header)
        problem = self.assertProblem(replay, "401.35")
        self.assertEqual(problem.status, 401)
        # stale=true: a real client whose request was overtaken signs again, silently.
        self.assertEqual(parse_challenge(challenge_headers(replay)["WWW-Authenticate"])["stale"], "true")

    def test_the_count_must_rise(self) -> None:
        self.assertEqual(authenticate(self.signed(self.challenge, nc="00000002"), None), self.collector)
        self.assertProblem(self.signed(self.challenge, nc="00000001"), "401.35")
        self.assertProblem(self.signed(self.challenge, nc="00000002"), "401.35")
        self.assertEqual(authenticate(self.signed(self.challenge, nc="0000000a"), None), self.collector)
        self.assertEqual(DigestNonce.objects.get(nonce=self.challenge["nonce"]).nc, 10)

    def test_a_replay_on_another_url_or_method_is_refused(self) -> None:
        self.assertEqual(
            authenticate(self.signed(self.challenge, "00000001", "/submission", "HEAD"), None), self.collector
        )
        # The same nonce and count signed again for the submission itself.
        self.assertProblem(self.signed(self.challenge, "00000001", "/submission", "POST"), "401.35")

    def test_a_bad_count_is_refused(self) -> None:
        for nc in ("", "xyz", "1" * 17, "-1"):
            self.assertProblem(self.signed(self.challenge, nc=nc), "401.31")

    def test_expired_nonces_are_forgotten(self) -> None:
        old = openrosa_auth.make_nonce(time.time() - openrosa_auth.NONCE_TTL - 120)
        DigestNonce.objects.create(nonce=old, nc=5, issued=int(old.split(".")[0]))
        authenticate(self.signed(self.challenge, nc="00000001"), None)
        self.assertEqual(list(DigestNonce.objects.values_list("nonce", flat=True)), [self.challenge["nonce"]])

    def test_a_wrong_password_records_no_count(self) -> None:
        header = digest_authorization(self.challenge, "GET", "/formList", "collector", "wrong")
        self.assertProblem(self.factory.get("/formList", HTTP_AUTHORIZATION=header), "401.31")
        self.assertFalse(DigestNonce.objects.exists())


@override_settings(AXES_FAILURE_LIMIT=3)
class LockoutTestCase(AuthTestCase):
    """Wrong passwords are counted per username and client address (django-axes); only
    wrong passwords count."""

    def wrong_digest(self, username: str = "collector", **extra: object) -> HttpRequest:
        return self.digest_request(username=username, password="wrong", **extra)

    def basic(self, password: str = PASSWORD, **extra: object) -> HttpRequest:
        return self.factory.get(
            "/formList", secure=True, HTTP_AUTHORIZATION=basic_authorization("collector", password), **extra
        )

    def test_wrong_passwords_lock_the_username_from_that_address(self) -> None:
        for _ in range(3):
            self.assertProblem(self.wrong_digest(), "401.31")
        problem = self.assertProblem(self.digest_request(), "429.30")
        self.assertEqual(problem.status, 429)
        self.assertEqual(
            problem.message,
            "Too many wrong passwords for 'collector' from this address: try again in 15 minutes.",
        )
        # Basic is locked too, and another address or another user is not.
        self.assertProblem(self.basic(), "429.30")
        self.assertEqual(authenticate(self.digest_request(REMOTE_ADDR="10.0.0.7"), None), self.collector)
        self.assertEqual(authenticate(self.digest_request(username="member"), None), self.member)

    def test_the_lock_ends_after_the_cool_off(self) -> None:
        for _ in range(3):
            self.assertProblem(self.wrong_digest(), "401.31")
        AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
        self.assertEqual(authenticate(self.digest_request(), None), self.collector)

    def test_wrong_basic_passwords_count(self) -> None:
        for _ in range(3):
            self.assertProblem(self.basic("wrong"), "401.31")
        self.assertProblem(self.basic(), "429.30")

    def test_unknown_users_are_counted_too(self) -> None:
        for _ in range(3):
            self.assertProblem(self.wrong_digest(username="nobody"), "401.31")
        self.assertProblem(self.wrong_digest(username="nobody"), "429.30")

    def test_a_right_password_clears_the_count(self) -> None:
        for _ in range(2):
            self.assertProblem(self.wrong_digest(), "401.31")
        self.assertEqual(authenticate(self.digest_request(), None), self.collector)
        for _ in range(2):
            self.assertProblem(self.wrong_digest(), "401.31")
        self.assertEqual(authenticate(self.digest_request(), None), self.collector)

    def test_challenges_stale_nonces_and_replays_do_not_count(self) -> None:
        for _ in range(10):
            # The first request of every exchange carries no credentials and gets a 401.
            self.assertProblem(self.factory.get("/formList"), "401.30")
            self.assertProblem(self.factory.get("/formList", HTTP_AUTHORIZATION="Digest garbage"), "401.31")
        challenge = parse_challenge(challenge_headers(self.factory.get("/x"))["WWW-Authenticate"])
        stale = dict(challenge, nonce=openrosa_auth.make_nonce(time.time() - openrosa_auth.NONCE_TTL - 1))
        for _ in range(5):
            self.assertProblem(self.digest_request(challenge=stale), "401.32")
        authenticate(self.signed(challenge, nc="00000001"), None)
        for _ in range(5):
            self.assertProblem(self.signed(challenge, nc="00000001"), "401.35")
        self.assertFalse(AccessAttempt.objects.exists())
        self.assertEqual(authenticate(self.digest_request(), None), self.collector)

    def test_a_phone_sending_a_queue_of_records_is_never_locked_out(self) -> None:
        challenge = parse_challenge(challenge_headers(self.factory.get("/x"))["WWW-Authenticate"])
        for n in range(1, 61):
            for method in ("HEAD", "POST"):
                nc = f"{2 * n - (method == 'HEAD'):08x}"
                user = authenticate(self.signed(challenge, nc, "/submission", method), None)
                self.assertEqual(user, self.collector)
        self.assertFalse(AccessAttempt.objects.exists())

    def test_a_collector_token_is_not_a_password(self) -> None:
        token = CollectorToken.objects.create(user=self.collector)
        for _ in range(3):
            self.assertProblem(self.wrong_digest(), "401.31")
        self.assertEqual(authenticate(self.factory.get("/formList"), token.token), self.collector)

    def test_an_overlong_username_is_refused_without_being_stored(self) -> None:
        self.assertProblem(self.wrong_digest(username="x" * 300), "401.31")
        request = self.factory.get(
            "/formList", secure=True, HTTP_AUTHORIZATION=basic_authorization("y" * 300, "z")
        )
        self.assertProblem(request, "401.31")
        self.assertFalse(AccessAttempt.objects.exists())

    @override_settings(AXES_LOCKOUT_PARAMETERS=["username"])
    def test_other_lockout_parameters_are_axes_own(self) -> None:
        for _ in range(3):
            self.assertProblem(self.wrong_digest(), "401.31")
        self.assertProblem(self.digest_request(REMOTE_ADDR="10.0.0.7"), "429.30")

    @override_settings(AXES_ENABLED=False)
    def test_it_can_be_turned_off(self) -> None:
        for _ in range(5):
            self.assertProblem(self.wrong_digest(), "401.31")
        self.assertEqual(authenticate(self.digest_request(), None), self.collector)


class NonceCountCommitTestCase(TransactionTestCase):
    """As in production, outside any transaction: each count commits on its own (on
    PostgreSQL without waiting for the disk), and a failure later in the request does not
    give it back."""

    def test_a_count_stays_used(self) -> None:
        User.objects.create_user("ranger", password=PASSWORD)
        factory = RequestFactory()
        challenge = parse_challenge(challenge_headers(factory.get("/x"))["WWW-Authenticate"])
        header = digest_authorization(challenge, "POST", "/submission", "ranger", PASSWORD)
        self.assertEqual(
            authenticate(factory.post("/submission", HTTP_AUTHORIZATION=header), None).username, "ranger"
        )
        with self.assertRaises(Problem) as caught:
            authenticate(factory.post("/submission", HTTP_AUTHORIZATION=header), None)
        self.assertEqual(caught.exception.code, "401.35")
        self.assertEqual(DigestNonce.objects.get().nc, 1)
