"""Who is calling an OpenRosa endpoint: collector tokens, HTTP Digest, and Basic over https.

The OpenRosa views call `authenticate(request, token)` first. It returns the user or raises
a `Problem`; on a 401 the view answers with `challenge_headers(request)` added, so that the
client knows how to sign in. A bad collector token is a 403, never a 401: a 401 makes ODK
Collect ask for a password, and a ranger holding a revoked QR code has none to give.

This runs on every submission, so it stays cheap: one indexed query per request, and
passwords are checked against the stored Digest HA1 (one MD5) rather than the PBKDF2 hash,
which costs hundreds of milliseconds by design.

Digest nonces are stateless, `<issued>.<salt>.<hmac>` signed with SECRET_KEY, so that any
worker process can check a nonce another one issued. Replays are stopped by the nonce
count: each nonce's highest accepted `nc` is kept in a table every worker shares
(DigestNonce), and a request must raise it. That costs one small write per signed request.

Password sign-ins (Digest and Basic) are counted by django-axes, per username and client
address: after AXES_FAILURE_LIMIT wrong passwords that pair is refused, right password or
not, for AXES_COOLOFF_TIME. Only a wrong password counts. The 401 that asks a client to sign
in, an expired nonce and a replayed count do not: a phone working through a queue of
records with the right password is never locked out, and a right password clears the count.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
import re
import secrets
import time
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import CollectorToken, DigestNonce, User, digest_ha1
from fieldkit import errors

logger = logging.getLogger(__name__)

# A nonce older than this is answered with `stale=true`: the client signs the same request
# again with a fresh nonce, without asking the user anything.
NONCE_TTL = 300
# Nonces stamped this far in the future are forged or come from a badly skewed clock.
NONCE_CLOCK_SKEW = 30
# last_used is a hint for administrators; refreshing it at most this often keeps a write
# off nearly every request.
LAST_USED_RESOLUTION = timedelta(hours=1)

_NONCE_SALT = "fieldkit.accounts.openrosa_auth.nonce"
_OPAQUE_SALT = "fieldkit.accounts.openrosa_auth.opaque"
_MAX_TOKEN_LENGTH = CollectorToken._meta.get_field("token").max_length or 64
_MAX_USERNAME_LENGTH = User._meta.get_field("username").max_length or 150
# auth-param = token "=" ( token / quoted-string ), RFC 7235 §2.1.
_AUTH_PARAM = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)')
_QUOTED_PAIR = re.compile(r"\\(.)")
# nc is 8 hex digits (RFC 7616 §3.4); some clients drop leading zeros.
_NONCE_COUNT = re.compile(r"[0-9a-fA-F]{1,16}")
# Set on a request whose nonce count was not above the last one: its 401 says stale=true.
_REUSED_NONCE = "_openrosa_nonce_reused"


def authenticate(request: HttpRequest, token: str | None) -> User:
    """The user behind `request`, or a Problem: 403 for a bad collector token, else 401.

    `token` comes from a `/key/<token>/...` URL; without it, a `?st=<token>` query parameter
    is used if present, then the Authorization header.
    """
    if token is None:
        token = request.GET.get("st")
    if token is not None:
        return _authenticate_token(token)

    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "digest":
        return _authenticate_digest(request, credentials)
    if scheme == "basic":
        # Basic sends the password itself; over plain http anyone on the path reads it.
        if not request.is_secure():
            raise errors.AUTH_BASIC_NEEDS_HTTPS()
        return _authenticate_basic(request, credentials)
    raise errors.AUTH_REQUIRED()


def challenge_headers(request: HttpRequest) -> dict[str, str]:
    """The WWW-Authenticate header of a 401 answer to `request`.

    Django sends one header per name, so both challenges share one value, as RFC 7235 §4.1
    allows. Digest comes first, and that order matters for ODK Collect, checked against its
    source (getodk/collect OkHttpOpenRosaServerClientProvider.java with rburgst/okhttp-digest):
    - its DigestAuthenticator takes the first WWW-Authenticate value that *starts with*
      "Digest" and reads every `name=value` after the 7th character as a Digest parameter;
      the trailing Basic challenge comes out as a harmless parameter named `Basic realm`,
      and its `charset` matches Digest's own;
    - its DispatchingAuthenticator tries challenges in order and uses the first scheme it
      has registered; Collect registers "basic" only for https URLs, and older versions
      only see the first challenge of a header, so Digest first is what every version picks.
    `charset=UTF-8` (RFC 7616 §3.3) makes okhttp-digest hash credentials as UTF-8, like the
    stored HA1; without it non-ASCII passwords would become "?".
    """
    realm = _quote(settings.OPENROSA_REALM)
    value = (
        f'Digest realm="{realm}", qop="auth", nonce="{make_nonce()}", '
        f'opaque="{_opaque()}", algorithm=MD5, charset=UTF-8'
    )
    if _has_stale_nonce(request) or getattr(request, _REUSED_NONCE, False):
        # The client signed with a nonce we issued but that has expired, or with a count
        # already used: stale=true lets it sign again silently with the fresh nonce
        # (okhttp-digest gives up on a second 401 without it).
        value += ", stale=true"
    if request.is_secure():
        value += f', Basic realm="{realm}", charset="UTF-8"'
    return {"WWW-Authenticate": value}


def make_nonce(issued_at: float | None = None) -> str:
    stamp = str(int(time.time() if issued_at is None else issued_at))
    salt = secrets.token_hex(8)
    return f"{stamp}.{salt}.{_sign_nonce(stamp, salt)}"


def nonce_age(nonce: str) -> float | None:
    """Seconds since `nonce` was issued, or None when we did not issue it."""
    parts = nonce.split(".")
    if len(parts) != 3 or len(nonce) > 100:
        return None
    stamp, salt, signature = parts
    if not (stamp.isascii() and stamp.isdigit()):
        return None
    if not constant_time_compare(signature, _sign_nonce(stamp, salt)):
        return None
    age = time.time() - int(stamp)
    return None if age < -NONCE_CLOCK_SKEW else age


def _authenticate_token(token: str) -> User:
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise errors.AUTH_TOKEN_INVALID()
    try:
        found = CollectorToken.objects.select_related("user").get(token=token, revoked_at=None)
    except CollectorToken.DoesNotExist:
        raise errors.AUTH_TOKEN_INVALID() from None
    if not found.user.is_active:
        raise errors.AUTH_TOKEN_INVALID()
    now = timezone.now()
    if found.last_used is None or now - found.last_used > LAST_USED_RESOLUTION:
        CollectorToken.objects.filter(pk=found.pk).update(last_used=now)
    return found.user


def _authenticate_digest(request: HttpRequest, credentials: str) -> User:
    params = _parse_auth_params(credentials)
    username = params.get("username", "")
    nonce = params.get("nonce", "")
    uri = params.get("uri", "")
    response = params.get("response", "").lower()
    nc = params.get("nc", "")
    cnonce = params.get("cnonce", "")
    if not (username and nonce and uri and response and nc and cnonce):
        raise errors.AUTH_FAILED()
    if not _NONCE_COUNT.fullmatch(nc):
        raise errors.AUTH_FAILED()
    # We offer only MD5 with qop=auth: the stored HA1 is MD5, and RFC 2069 answers without
    # qop are not bound to a client nonce.
    if params.get("qop") != "auth" or params.get("algorithm", "MD5").upper() != "MD5":
        raise errors.AUTH_FAILED()
    # HA1 covers the realm, so an answer for another realm cannot match anyway; say so early.
    if params.get("realm") != settings.OPENROSA_REALM:
        raise errors.AUTH_FAILED()
    age = nonce_age(nonce)
    if age is None:
        raise errors.AUTH_FAILED()
    # The answer signs `uri`: one signed for another URL must not open this one.
    if not _uri_matches(request, uri):
        raise errors.AUTH_FAILED()

    attempt = _PasswordAttempt(request, username)
    user = _user_named(username)
    # Without HA1 (no password, or a token-only collector) Digest is off for this user.
    if user is None or not user.digest_ha1 or not user.has_usable_password():
        raise attempt.failed()
    ha2 = _md5(f"{request.method}:{uri}")
    expected = _md5(f"{user.digest_ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    if not constant_time_compare(expected, response):
        raise attempt.failed()
    if age > NONCE_TTL:
        raise errors.AUTH_NONCE_STALE()
    if not _raise_nonce_count(nonce, int(nc, 16)):
        setattr(request, _REUSED_NONCE, True)
        raise errors.AUTH_NONCE_REUSED()
    if not user.is_active:
        raise errors.AUTH_ACCOUNT_DISABLED()
    attempt.succeeded()
    return user


def _raise_nonce_count(nonce: str, nc: int) -> bool:
    """Record `nc` as the nonce's count; False when it is not above the one recorded.

    One statement, atomic in both databases (INSERT ... ON CONFLICT DO UPDATE ... WHERE),
    so two workers given the same header never both accept it. It commits on its own,
    outside the request's transaction: a used count stays used even if the request fails.
    """
    stamp = int(nonce.split(".", 1)[0])
    # On PostgreSQL the write commits without waiting for its WAL to reach the disk: that
    # wait (an fsync, milliseconds) would be most of the cost of signing in. A crash can
    # then forget the counts of the last fraction of a second, which reopens nothing but
    # those few, still-valid nonces; it can never corrupt anything. Only in a transaction
    # of its own: SET LOCAL in a caller's transaction would make the caller's commit
    # asynchronous too.
    asynchronous = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic() if asynchronous else contextlib.nullcontext(), connection.cursor() as cursor:
        if asynchronous:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(_RAISE_NONCE_COUNT_SQL, [nonce, nc, stamp])
        accepted = cursor.fetchone() is not None
        if accepted and nc == 1:
            # A nonce coming into use: the moment to forget those that expired. The margin
            # keeps rows of nonces a slow request may still be checking.
            cursor.execute(_FORGET_NONCES_SQL, [int(time.time()) - NONCE_TTL - NONCE_CLOCK_SKEW - 60])
    return accepted


_NONCE_TABLE = DigestNonce._meta.db_table
_RAISE_NONCE_COUNT_SQL = (
    f"INSERT INTO {_NONCE_TABLE} (nonce, nc, issued) VALUES (%s, %s, %s) "  # noqa: S608
    f"ON CONFLICT (nonce) DO UPDATE SET nc = excluded.nc WHERE {_NONCE_TABLE}.nc < excluded.nc "
    "RETURNING nc"
)
_FORGET_NONCES_SQL = f"DELETE FROM {_NONCE_TABLE} WHERE issued < %s"  # noqa: S608


class _PasswordAttempt:
    """django-axes bookkeeping of one password sign-in, by username and client address.

    Created once the username is known and before the password is checked: a pair that
    is locked out is refused whatever the password. axes sees a stand-in request carrying
    only the headers, so that it never reads (nor stores) the body of a submission."""

    def __init__(self, request: HttpRequest, username: str) -> None:
        if len(username) > _MAX_USERNAME_LENGTH:
            # No such user can exist, and axes' table would refuse to store the name.
            raise errors.AUTH_FAILED()
        self.credentials = {"username": username}
        self.failures = 0
        if not settings.AXES_ENABLED:
            self.request = None
            return
        self.request = _headers_only(request)
        AxesProxyHandler.update_request(self.request)
        handler = AxesProxyHandler.get_implementation()
        if handler.is_blacklisted(self.request, self.credentials):
            raise self._locked_out()
        if handler.is_whitelisted(self.request, self.credentials):
            self.request = None
            return
        self.failures = self._failures(handler)
        limit = get_failure_limit(self.request, self.credentials)
        if getattr(settings, "AXES_LOCK_OUT_AT_FAILURE", True) and self.failures >= limit:
            raise self._locked_out()

    def _failures(self, handler: Any) -> int:
        """Recent wrong passwords of this username from this address. This runs on every
        signed request: for the configuration shipped (failures in axes' table, counted by
        username and address within a cool-off) it is one SQL statement, as axes' handler
        would run it without the ORM's cost of building it; any other goes through axes."""
        assert self.request is not None
        cool_off = get_cool_off(self.request)
        if (
            getattr(settings, "AXES_HANDLER", "") != "axes.handlers.database.AxesDatabaseHandler"
            or settings.AXES_LOCKOUT_PARAMETERS != [["username", "ip_address"]]
            or getattr(settings, "AXES_USE_ATTEMPT_EXPIRATION", False)
            or getattr(settings, "AXES_USERNAME_CALLABLE", None)
            or cool_off is None
        ):
            return int(handler.get_failures(self.request, self.credentials))
        since = self.request.axes_attempt_time - cool_off  # type: ignore[attr-defined]
        ip_address = self.request.axes_ip_address  # type: ignore[attr-defined]
        with connection.cursor() as cursor:
            cursor.execute(_RECENT_FAILURES_SQL, [self.credentials["username"], ip_address, since])
            return int(cursor.fetchone()[0])

    def failed(self) -> errors.Problem:
        """Count a wrong password; the Problem to raise."""
        if self.request is not None:
            AxesProxyHandler.user_login_failed(__name__, self.credentials, self.request)
        return errors.AUTH_FAILED()

    def succeeded(self) -> None:
        # Nothing to write on the common path: only earlier failures are cleared.
        if self.request is not None and self.failures and settings.AXES_RESET_ON_SUCCESS:
            AxesProxyHandler.reset_attempts(
                ip_address=self.request.axes_ip_address,  # type: ignore[attr-defined]
                username=self.credentials["username"],
            )

    def _locked_out(self) -> errors.Problem:
        cool_off = get_cool_off(self.request)
        if cool_off is None:
            then = "ask your administrator to unlock it"
        else:
            then = f"try again in {max(1, round(cool_off.total_seconds() / 60))} minutes"
        return errors.AUTH_LOCKED_OUT(username=self.credentials["username"], then=then)


_ATTEMPTS_TABLE = AccessAttempt._meta.db_table
_RECENT_FAILURES_SQL = (
    f"SELECT COALESCE(SUM(failures_since_start), 0) FROM {_ATTEMPTS_TABLE} "  # noqa: S608
    "WHERE username = %s AND ip_address = %s AND attempt_time >= %s"
)


def _headers_only(request: HttpRequest) -> HttpRequest:
    probe = HttpRequest()
    probe.method = request.method
    probe.path, probe.path_info = request.path, request.path_info
    probe.META = {
        name: value
        for name, value in request.META.items()
        if isinstance(value, str) and name not in ("HTTP_AUTHORIZATION", "HTTP_COOKIE")
    }
    return probe


def _authenticate_basic(request: HttpRequest, credentials: str) -> User:
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise errors.AUTH_FAILED() from None
    try:
        text = decoded.decode()
    except UnicodeDecodeError:
        text = decoded.decode("latin-1")  # RFC 7617's historical default
    username, colon, password = text.partition(":")
    if not (colon and username):
        raise errors.AUTH_FAILED()
    attempt = _PasswordAttempt(request, username)
    user = _user_named(username)
    if user is None or not user.has_usable_password():
        raise attempt.failed()
    if user.digest_ha1:
        # HA1 is already a password equivalent stored next to the hash; comparing against it
        # costs one MD5 instead of a full PBKDF2 round per submission.
        ha1 = digest_ha1(user.get_username(), settings.OPENROSA_REALM, password)
        valid = constant_time_compare(ha1, user.digest_ha1)
    else:
        valid = user.check_password(password)
    if not valid:
        raise attempt.failed()
    if not user.is_active:
        raise errors.AUTH_ACCOUNT_DISABLED()
    attempt.succeeded()
    return user


def _user_named(username: str) -> User | None:
    try:
        return User.objects.get_by_natural_key(username)
    except User.DoesNotExist:
        return None


def _uri_matches(request: HttpRequest, uri: str) -> bool:
    # Clients send the request target (okhttp: path and query); some send an absolute URI.
    # Paths compare decoded, as Django decodes request.path. A query is compared only when
    # the client signed one: some clients leave it out.
    parts = urlsplit(uri)
    if unquote(parts.path) != request.path:
        return False
    return not parts.query or unquote(parts.query) == unquote(request.META.get("QUERY_STRING", ""))


def _has_stale_nonce(request: HttpRequest) -> bool:
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
    if scheme.lower() != "digest":
        return False
    age = nonce_age(_parse_auth_params(credentials).get("nonce", ""))
    return age is not None and age > NONCE_TTL


def _parse_auth_params(credentials: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for match in _AUTH_PARAM.finditer(credentials):
        name, value = match.group(1).lower(), match.group(2)
        if value.startswith('"'):
            value = _QUOTED_PAIR.sub(r"\1", value[1:-1])
        params.setdefault(name, value)
    return params


def _sign_nonce(stamp: str, salt: str) -> str:
    return salted_hmac(_NONCE_SALT, f"{stamp}.{salt}", algorithm="sha256").hexdigest()[:32]


def _opaque() -> str:
    # Clients echo it back; it only has to be stable and carry nothing.
    return salted_hmac(_OPAQUE_SALT, settings.OPENROSA_REALM, algorithm="sha256").hexdigest()[:32]


def _md5(text: str) -> str:
    # Digest is defined over MD5 (RFC 2617); this is the protocol, not a choice.
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def authenticate_basic(request: HttpRequest, credentials: str) -> User:
    """HTTP Basic `credentials` (the part after "Basic ") checked as the OpenRosa endpoints
    check them, wrong passwords counted by django-axes. Whether the channel may carry a
    password in clear is for the caller to decide (the OData feed: https, or loopback while
    https is off)."""
    return _authenticate_basic(request, credentials)
