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
