"""System checks refuse a configuration that cannot work."""

from __future__ import annotations

from fieldkit import checks


def test_a_non_spatial_database_is_an_error(settings):
    settings.DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    assert [e.id for e in checks.check_database()] == ["fieldkit.E001"]


def test_spatialite_that_cannot_load_is_an_error(settings):
    settings.DATABASES = {"default": {"ENGINE": "django.contrib.gis.db.backends.spatialite"}}
    settings.SPATIALITE_LIBRARY_PATH = "/nonexistent/mod_spatialite"
    assert [e.id for e in checks.check_database()] == ["fieldkit.E003"]


def test_the_default_spatialite_loads(settings):
    settings.DATABASES = {"default": {"ENGINE": "django.contrib.gis.db.backends.spatialite"}}
    settings.SPATIALITE_LIBRARY_PATH = "mod_spatialite"
    assert checks.check_database() == []


def test_broker_scheme_is_checked(settings):
    settings.CELERY_BROKER_URL = "amqp://guest@localhost//"
    assert [e.id for e in checks.check_broker()] == ["fieldkit.E004"]
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    assert checks.check_broker() == []


def test_unwritable_storage_is_an_error(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = "/proc/fieldkit-media"  # not creatable, even by root
    assert [e.id for e in checks.check_storage()] == ["fieldkit.E005"]
    settings.MEDIA_ROOT = tmp_path / "media"
    assert checks.check_storage() == []


def test_default_secret_key_is_flagged_for_deployment(settings):
    settings.SECRET_KEY = "insecure-development-key"
    assert [w.id for w in checks.check_secret_key()] == ["fieldkit.W001"]


def test_an_https_redirect_needs_a_trusted_proxy_header(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SITE_URL = "https://fieldkit.example.org"
    settings.SECURE_PROXY_SSL_HEADER = None
    assert [w.id for w in checks.check_https()] == ["fieldkit.W002"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert checks.check_https() == []


def test_an_https_redirect_needs_an_https_site_url(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SITE_URL = "http://fieldkit.example.org"
    assert [w.id for w in checks.check_https()] == ["fieldkit.W003"]


def test_plain_http_chosen_on_purpose_is_not_flagged_by_fieldkit(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.SITE_URL = "http://192.168.1.10:8000"
    assert checks.check_https() == []
