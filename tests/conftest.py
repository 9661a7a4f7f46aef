import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Every test writes uploads to its own directory."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _plain_http(settings):
    """The test client speaks plain HTTP, which a server with DEBUG off redirects to HTTPS
    by default (tests/test_settings.py checks that it does)."""
    settings.SECURE_SSL_REDIRECT = False
