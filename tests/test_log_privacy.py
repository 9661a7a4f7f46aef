"""No log line carries a Cookie or Authorization value: Enketo's sign-in cookie holds a
user name and password in clear, and Basic credentials are the password in base64.

Requests carrying such headers are driven through the whole stack (middleware, OpenRosa
authentication, the API, the admin, a view that fails) and everything fieldkit's logging
writes is read back; so are the error report (the debug page and error e-mails), gunicorn's
access log format and the proxy's."""

from __future__ import annotations

import base64
import io
import logging
import re
from pathlib import Path

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import include, path
from django.views.debug import ExceptionReporter

from fieldkit.logs import CredentialsReporterFilter, RedactCredentials, credential_values, redact
from tests.test_gunicorn_conf import resolved

ROOT = Path(__file__).resolve().parents[1]

# What Enketo's sign-in cookie looks like: the credentials in clear, then a signature.
ENKETO_COOKIE = "s%3A%7B%22user%22%3A%22ranger%22%2C%22pass%22%3A%22jungle-fowl-42%22%7D.Wb2Xq"
SESSION_COOKIE = "k3x9sessionvalue7q"
PASSWORD = "jungle-fowl-42"
BASIC = base64.b64encode(f"ranger:{PASSWORD}".encode()).decode()
DIGEST = (
    'Digest username="ranger", realm="fieldkit", nonce="1764680000.abc.defsig", uri="/formList", '
    'response="6629fae49393a05397450978507c4ef1", qop=auth, nc=00000001, cnonce="0a4f113b"'
)
SECRETS = [ENKETO_COOKIE, SESSION_COOKIE, PASSWORD, BASIC, "6629fae49393a05397450978507c4ef1"]
COOKIE = f"sessionid={SESSION_COOKIE}; __enketo={ENKETO_COOKIE}"


def fail(request: HttpRequest) -> HttpResponse:
    """A bug that quotes the request's credentials in its exception and its variables."""
    cookie = request.META["HTTP_COOKIE"]
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    raise ValueError(f"could not read Cookie: {cookie} with {authorization}")


urlpatterns = [path("fail", fail), path("", include("portal.urls"))]


@pytest.fixture
def written():
    """What the configured handlers (settings.LOGGING) write, at every level."""
    handlers = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactCredentials) for f in h.filters) and isinstance(h, logging.StreamHandler)
    ]
    assert handlers, "settings.LOGGING puts the filter on the console handler"
    stream = io.StringIO()
    old = [(h, h.setStream(stream), h.level) for h in handlers]
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    for h in handlers:
        h.setLevel(logging.DEBUG)
    yield stream
    root.setLevel(level)
    for h, previous, h_level in old:
        h.setStream(previous)
        h.setLevel(h_level)


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, (secret, text)


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, DEBUG_PROPAGATE_EXCEPTIONS=False)
def test_no_log_line_carries_a_cookie_or_authorization_value(written, caplog):
    caplog.set_level(logging.DEBUG)
    client = Client(raise_request_exception=False, HTTP_COOKIE=COOKIE)
    for authorization in (f"Basic {BASIC}", DIGEST, "Bearer " + ENKETO_COOKIE):
        headers = {"HTTP_AUTHORIZATION": authorization, "HTTP_X_OPENROSA_VERSION": "1.0"}
        assert client.get("/formList", **headers).status_code == 401
        assert client.get("/formList", secure=True, **headers).status_code == 401
        client.post("/submission", {"x": "y"}, secure=True, **headers)
        assert client.get("/api/v1/forms/", **headers).status_code in (401, 403)
        client.get("/admin/", **headers)
        assert client.get("/nowhere", **headers).status_code == 404
        assert client.get("/fail", **headers).status_code == 500

    text = written.getvalue()
    # The failing view was logged, with its traceback, and without the values it quoted.
    assert "Internal Server Error: /fail" in text
    assert "ValueError: could not read Cookie: ********************" in text
    assert_clean(text)
    # Every record, as any handler would format it after fieldkit's filter.
    records = "\n".join(
        logging.Formatter("%(message)s").format(r) for r in caplog.records if RedactCredentials().filter(r)
    )
    assert "Internal Server Error" in records
    assert_clean(records)


def test_the_filter_blanks_header_text_without_a_request():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "headers: %s", ({"Cookie": COOKIE},), None)
    RedactCredentials().filter(record)
    assert_clean(record.getMessage())
    assert redact(f"Authorization: Basic {BASIC}") == "Authorization: ********************"
    assert PASSWORD in credential_values({"HTTP_AUTHORIZATION": f"Basic {BASIC}"})


def test_error_reports_hide_cookies_and_credentials(rf):
    request = rf.get("/fail", HTTP_COOKIE=COOKIE, HTTP_AUTHORIZATION=f"Basic {BASIC}")
    request.COOKIES  # noqa: B018 (parsed as Django does)
    try:
        fail(request)
    except ValueError as exc:
        reporter = ExceptionReporter(request, type(exc), exc, exc.__traceback__)
    reporter.filter = CredentialsReporterFilter()
    text = reporter.get_traceback_text()
    html = reporter.get_traceback_html()
    assert "__enketo" in text  # the cookie's name is shown, not its value
    for secret in (ENKETO_COOKIE, SESSION_COOKIE, BASIC):
        assert secret not in re.sub(r"could not read Cookie: .*", "", text), secret
        assert secret not in re.sub(r"could not read Cookie: .*", "", html), secret


def test_settings_use_the_reporter_filter(settings):
    assert settings.DEFAULT_EXCEPTION_REPORTER_FILTER == "fieldkit.logs.CredentialsReporterFilter"
    assert settings.MIDDLEWARE[0] == "fieldkit.logs.RequestCredentials"


def test_gunicorn_access_log_has_no_headers_user_or_query():
    found = resolved(GUNICORN_ACCESS_LOG="-")["access_log_format"]
    for atom in ("%(u)s", "%(r)s", "%(q)s", "%(a)s", "%(f)s", "}i)s", "}e)s"):
        assert atom not in found, atom
    assert "%(U)s" in found


def test_the_proxy_logs_no_credentials():
    config = (ROOT / "deploy" / "nginx" / "fieldkit.conf.template").read_text()
    formats = re.findall(r"log_format\s+\w+\s+([^;]+);", config)
    assert formats, "the proxy defines its own log format"
    for line in formats:
        for variable in (
            "$http_cookie",
            "$http_authorization",
            "$remote_user",
            "$request ",
            "$request_uri",
            "$args",
        ):
            assert variable not in line, variable
    assert "access_log" in config
