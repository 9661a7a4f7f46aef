"""Production settings come from the environment: `check --deploy` is clean for the
production shape, HTTPS is the default with DEBUG off, and plain HTTP is an explicit choice."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What docker-compose.yml and the README's .env give the web server behind a TLS proxy.
PRODUCTION = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "fieldkit.example.org,127.0.0.1",
    "CSRF_TRUSTED_ORIGINS": "https://fieldkit.example.org",
    "SITE_URL": "https://fieldkit.example.org",
    "TRUST_X_FORWARDED_PROTO": "true",
    # Checks do not connect: the URLs only select the engines of the production shape.
    "DATABASE_URL": "postgis://fieldkit:secret@127.0.0.1:9/fieldkit",
    "CELERY_BROKER_URL": "redis://127.0.0.1:9/0",
}


def check_deploy(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    """`manage.py check --deploy` in a process of its own, with only the given environment
    (none of the test run's settings leak in)."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATA_DIR": str(tmp_path / "data"),
        **PRODUCTION,
        **overrides,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def warning_ids(output: str) -> list[str]:
    return sorted(set(re.findall(r"\(([\w.]+\.[EW]\d+)\)", output)))


def test_check_deploy_is_clean_for_the_production_shape(tmp_path):
    result = check_deploy(tmp_path)
    output = result.stdout + result.stderr
    assert warning_ids(output) == [], output
    assert "System check identified no issues" in output, output
    assert result.returncode == 0, output


def test_plain_http_inside_a_network_is_possible_and_check_deploy_says_what_it_costs(tmp_path):
    result = check_deploy(
        tmp_path,
        SITE_URL="http://192.168.1.10:8000",
        TRUST_X_FORWARDED_PROTO="false",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
    )
    output = result.stdout + result.stderr
    # No redirect, cookies over HTTP: warned about, nothing else.
    assert warning_ids(output) == ["security.W008", "security.W012", "security.W016"], output


def test_a_redirect_without_a_trusted_proxy_or_https_site_url_is_flagged(tmp_path):
    result = check_deploy(tmp_path, SITE_URL="http://fieldkit.example.org", TRUST_X_FORWARDED_PROTO="false")
    output = result.stdout + result.stderr
    assert warning_ids(output) == ["fieldkit.W002", "fieldkit.W003"], output
    assert result.returncode != 0


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https(settings, client):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/formList", HTTP_HOST="testserver")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/formList"


@pytest.mark.django_db
def test_health_checks_over_plain_http_are_not_redirected(settings, client):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200


HTTPS_SETTINGS = [
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
]


def https_settings(tmp_path: Path, **env: str) -> dict[str, object]:
    """The HTTPS settings fieldkit.settings computes from exactly this environment."""
    code = (
        "import json; from fieldkit import settings as s; "
        f"print(json.dumps({{name: getattr(s, name) for name in {HTTPS_SETTINGS!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_with_debug_off_https_is_the_default(tmp_path):
    assert https_settings(tmp_path, DEBUG="false") == {
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": False,
    }


def test_development_with_debug_on_is_plain_http(tmp_path):
    found = https_settings(tmp_path, DEBUG="true")
    assert found["SECURE_SSL_REDIRECT"] is False
    assert found["SESSION_COOKIE_SECURE"] is False
    assert found["CSRF_COOKIE_SECURE"] is False
    assert found["SECURE_HSTS_SECONDS"] == 0


def test_each_https_setting_can_be_chosen(tmp_path):
    found = https_settings(
        tmp_path,
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="3600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
        SECURE_HSTS_PRELOAD="true",
    )
    assert found == {
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": True,
    }


@pytest.mark.django_db
def test_https_responses_carry_hsts(settings, client):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get("/healthz", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize("value", ["ture", "yes please", "2"])
def test_a_yes_no_setting_that_is_neither_stops_fieldkit(tmp_path, value):
    with pytest.raises(subprocess.CalledProcessError) as failed:
        https_settings(tmp_path, DEBUG=value)
    assert "ImproperlyConfigured" in failed.value.stderr
    assert f"DEBUG={value!r} is neither true nor false" in failed.value.stderr


@pytest.mark.parametrize("value, expected", [("TRUE", True), (" on ", True), ("0", False), ("", False)])
def test_yes_no_settings_read_the_usual_words(monkeypatch, value, expected):
    from fieldkit.settings import envbool

    monkeypatch.setenv("FIELDKIT_TEST_FLAG", value)
    assert envbool("FIELDKIT_TEST_FLAG", "false") is expected
