import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Every test writes uploads to its own directory."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _processing_in_the_request(settings):
    """Without a broker, processing runs in the request, so tests can look at its outcome
    right after the answer; tests of the background thread turn it back on."""
    settings.ODK_FORMS_BACKGROUND_PROCESSING = False
