"""No log line and no error report carries a Cookie or Authorization value.

Enketo keeps a user's sign-in in a cookie whose payload holds the user name and the
password in clear (signed, not encrypted), and a browser sends it along with its session
cookie; ODK Collect sends Basic credentials, which are the password in base64. Nothing in
fieldkit logs headers on purpose, but an exception message or a traceback can quote them.
So:

- `RequestCredentials` (a middleware) notes the credential values of the request being
  served, for the thread serving it;
- `RedactCredentials` (a logging filter on every handler, settings.LOGGING) replaces those
  values, and anything written as `Cookie: ...` or `Authorization: ...`, in the message and
  the traceback of every record before it is written;
- `CredentialsReporterFilter` (DEFAULT_EXCEPTION_REPORTER_FILTER) hides every cookie and
  every header that carries credentials in error reports (the debug page, error e-mails),
  and frame variables that hold one of those values.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import contextvars
import logging
import re
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.debug import SafeExceptionReporterFilter

REDACTED = "********************"

# Request headers (WSGI names) whose values are credentials.
CREDENTIAL_HEADERS = ("HTTP_COOKIE", "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION")
# `Cookie: a=b; c=d`, `Authorization: Digest username="x", ...`, as a header or a WSGI key.
_HEADER_TEXT = re.compile(
    r"((?:HTTP_)?(?:PROXY_AUTHORIZATION|AUTHORIZATION|COOKIE|Proxy-Authorization|Authorization|Cookie)"
    r"['\"]?\s*[:=]\s*['\"]?)([^'\"\r\n]+)",
    re.IGNORECASE,
)
# Values shorter than this are not hunted for in text (a cookie "1" would blank every digit).
_MIN_SECRET_LENGTH = 6

_current_secrets: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "fieldkit_request_credentials", default=()
)


def credential_values(meta: dict[str, Any]) -> tuple[str, ...]:
    """Every credential a request carries, longest first: whole header values, each cookie
    value, each Authorization credential and, for Basic, the decoded user:password and
    password."""
    found: set[str] = set()
    for key in CREDENTIAL_HEADERS:
        value = str(meta.get(key, "") or "")
        if not value:
            continue
        found.add(value)
        if key == "HTTP_COOKIE":
            found.update(_cookie_values(value))
        else:
            found.update(_authorization_values(value))
    return tuple(sorted((v for v in found if len(v) >= _MIN_SECRET_LENGTH), key=len, reverse=True))


def _cookie_values(header: str) -> Iterable[str]:
    cookie: SimpleCookie = SimpleCookie()
    # A malformed header loads nothing: the plain split below still finds its values.
    with contextlib.suppress(Exception):
        cookie.load(header)
    yield from (morsel.value for morsel in cookie.values())
    yield from (raw for _, _, raw in (part.strip().partition("=") for part in header.split(";")))


def _authorization_values(header: str) -> Iterable[str]:
    scheme, _, credentials = header.strip().partition(" ")
    yield credentials.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return
        yield decoded
        yield decoded.partition(":")[2]
    else:
        # Digest: the response hash, the nonce and the rest identify a signed request.
        yield from (m.group(2) for m in re.finditer(r'(\w+)="?([^",]+)"?', credentials))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _HEADER_TEXT.sub(lambda m: m.group(1) + REDACTED, text)


class RequestCredentials:
    """Middleware: the credentials of the request being served, for RedactCredentials.

    First in MIDDLEWARE, so that everything logged while the request is served (by the
    other middleware, the view, Django's own "Internal Server Error" line) is covered."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current_secrets.set(credential_values(request.META))
        try:
            return self.get_response(request)
        finally:
            _current_secrets.reset(token)


class RedactCredentials(logging.Filter):
    """Logging filter: blanks credential values in a record's message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = list(_current_secrets.get())
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "META"):
            secrets.extend(credential_values(request.META))
        message = record.getMessage()
        cleaned = redact(message, secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, secrets)
        return True


class CredentialsReporterFilter(SafeExceptionReporterFilter):
    """Error reports without cookies or credentials.

    Django's filter hides the Cookie and Authorization headers, but shows each cookie by
    name and value (only names that look secret are hidden: not Enketo's), and shows frame
    variables unless a function is marked @sensitive_variables."""

    def get_safe_cookies(self, request: HttpRequest) -> dict[str, Any]:
        return {name: self.cleansed_substitute for name in getattr(request, "COOKIES", {})}

    def get_safe_request_meta(self, request: HttpRequest) -> dict[str, Any]:
        meta = super().get_safe_request_meta(request)
        for key in CREDENTIAL_HEADERS:
            if key in meta:
                meta[key] = self.cleansed_substitute
        return meta

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> Any:
        variables = super().get_traceback_frame_variables(request, tb_frame)
        secrets = credential_values(request.META) if request is not None else ()
        if not secrets:
            return variables
        cleaned = []
        for name, value in variables:
            try:
                text = repr(value)
            except Exception:  # a repr that fails shows nothing either
                text = ""
            if any(secret in text for secret in secrets):
                value = self.cleansed_substitute
            cleaned.append((name, value))
        return cleaned
