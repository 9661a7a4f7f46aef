"""Who is calling an OpenRosa endpoint: collector tokens, HTTP Digest, and Basic over https.

The OpenRosa views call `authenticate(request, token)` first. It returns the user or raises
a `Problem`; on a 401 the view answers with `challenge_headers(request)` added, so that the
client knows how to sign in. A bad collector token is a 403, never a 401: a 401 makes ODK
Collect ask for a password, and a ranger holding a revoked QR code has none to give.

This runs on every submission, so it stays cheap: one indexed query per request, and
passwords are checked against the stored Digest HA1 (one MD5) rather than the PBKDF2 hash,
which costs hundreds of milliseconds by design.

Digest nonces are stateless, `<issued>.<salt>.<hmac>` signed with SECRET_KEY, so that any
worker process can check a nonce another one issued. The price is that a captured
Authorization header can be replayed on the same URL until its nonce expires (NONCE_TTL);
HTTPS is what protects against eavesdroppers, as with any password scheme.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
import secrets
import time
from datetime import timedelta
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import CollectorToken, User, digest_ha1
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
# auth-param = token "=" ( token / quoted-string ), RFC 7235 §2.1.
_AUTH_PARAM = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)')
_QUOTED_PAIR = re.compile(r"\\(.)")


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
        return _authenticate_basic(credentials)
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
    if _has_stale_nonce(request):
        # The client signed with a nonce we issued but that has expired: stale=true lets it
        # sign again silently (okhttp-digest gives up on a second 401 without it).
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

    user = _user_named(username)
    # Without HA1 (no password, or a token-only collector) Digest is off for this user.
    if user is None or not user.digest_ha1 or not user.has_usable_password():
        raise errors.AUTH_FAILED()
    ha2 = _md5(f"{request.method}:{uri}")
    expected = _md5(f"{user.digest_ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    if not constant_time_compare(expected, response):
        raise errors.AUTH_FAILED()
    if age > NONCE_TTL:
        raise errors.AUTH_NONCE_STALE()
    if not user.is_active:
        raise errors.AUTH_ACCOUNT_DISABLED()
    return user


def _authenticate_basic(credentials: str) -> User:
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
    user = _user_named(username)
    if user is None or not user.has_usable_password():
        raise errors.AUTH_FAILED()
    if user.digest_ha1:
        # HA1 is already a password equivalent stored next to the hash; comparing against it
        # costs one MD5 instead of a full PBKDF2 round per submission.
        ha1 = digest_ha1(user.get_username(), settings.OPENROSA_REALM, password)
        valid = constant_time_compare(ha1, user.digest_ha1)
    else:
        valid = user.check_password(password)
    if not valid:
        raise errors.AUTH_FAILED()
    if not user.is_active:
        raise errors.AUTH_ACCOUNT_DISABLED()
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
