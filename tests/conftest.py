import pytest

# The browser tests' fixtures: fieldkit served by gunicorn, driven by headless Chromium.
pytest_plugins = ["tests.browser"]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Every test writes uploads to its own directory."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _processing_in_the_request(settings):
    """Without a broker, processing runs in the request, so tests can look at its outcome
    right after the answer; tests of the background thread turn it back on."""
    settings.ODK_FORMS_BACKGROUND_PROCESSING = False


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: rolled-back tests reuse ids, and a cached map
    answer keyed by them would outlive its data."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SpatiaLite the test database is a file (one per test process), not memory: the
    threads of a race test then reach it through connections of their own and meet SQLite's
    real locking, as the requests of a server do. In memory they would share one cache and
    fail on table locks that no server ever sees."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("spatialite"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(autouse=True)
def _plain_http(settings):
    """The test client speaks plain HTTP, which a server with DEBUG off redirects to HTTPS
    by default (tests/test_settings.py checks that it does)."""
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def _plain_static_names(settings, tmp_path):
    """Pages rendered by the test client link to plain static names: the content-hashed
    names of the production storage exist only after collectstatic, which
    tests/test_static_files.py runs before serving them with DEBUG off. WhiteNoise looks
    in STATIC_ROOT when the test client starts: an empty one of its own."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STATIC_ROOT.mkdir()
