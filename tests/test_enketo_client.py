"""odk_forms.enketo against a stand-in answering as Enketo's documented API v2 does: the
links of each view, the API key, the errors with Enketo's message, Enketo down or slow."""

from __future__ import annotations

import base64
import socket

import pytest

from odk_forms import enketo
from tests.enketo_standin import API_KEY, EnketoStandIn

SERVER = "http://127.0.0.1:8000"


@pytest.fixture
def standin():
    running = EnketoStandIn(linked_server=SERVER).start()
    yield running
    running.stop()


def config(standin: EnketoStandIn, **kwargs: object) -> enketo.EnketoConfig:
    return enketo.EnketoConfig(**{"api_url": standin.url, "api_key": API_KEY, "timeout": 2.0, **kwargs})  # type: ignore[arg-type]


def test_survey_links_online_and_offline(standin):
    url = enketo.survey_url(config(standin), SERVER, "patrol")
    assert url.startswith(standin.url + "/") and "/x/" not in url
    offline = enketo.offline_url(config(standin), SERVER, "patrol")
    assert offline == standin.url + "/x/" + url.rsplit("/", 1)[1]
    call = standin.calls("/-/api/v2/survey")[0]
    assert call["fields"] == {"server_url": SERVER, "form_id": "patrol"}
    assert call["content_type"] == "application/x-www-form-urlencoded"
    # The API key is the Basic user name, with an empty password.
    assert call["authorization"] == "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()


def test_a_known_survey_gives_the_same_link(standin):
    first = enketo.survey_url(config(standin), SERVER, "patrol")
    assert enketo.survey_url(config(standin), SERVER, "patrol") == first
    assert enketo.survey_url(config(standin), f"{SERVER}/key/abc", "patrol") != first


def test_preview(standin):
    url = enketo.preview_url(config(standin), f"{SERVER}/test/tok", "patrol")
    assert url.startswith(standin.url + "/preview/")


def test_links_are_made_public(standin):
    public = enketo.EnketoConfig(standin.url, API_KEY, "https://fieldkit.example.org/-", 2.0)
    assert enketo.offline_url(public, SERVER, "patrol").startswith("https://fieldkit.example.org/-/x/")


def test_instance_sends_the_record_and_its_attachments(standin):
    url = enketo.edit_url(
        config(standin),
        SERVER,
        "patrol",
        instance="<data id='patrol'><photo>a b.jpg</photo></data>",
        instance_id="uuid:1",
        attachments={"a b.jpg": "http://127.0.0.1:8000/api/v1/submissions/1/attachments/a%20b.jpg"},
        return_url="http://127.0.0.1:8000/admin/",
    )
    assert "/edit/" in url and "instance_id=uuid:1" in url
    stored = standin.instances["uuid:1"]
    assert stored["instance"] == "<data id='patrol'><photo>a b.jpg</photo></data>"
    assert stored["attachments"] == {
        "a b.jpg": "http://127.0.0.1:8000/api/v1/submissions/1/attachments/a%20b.jpg"
    }
    assert stored["return_url"] == "http://127.0.0.1:8000/admin/"


def test_a_wrong_api_key_is_a_401(standin):
    with pytest.raises(enketo.EnketoError) as caught:
        enketo.survey_url(config(standin, api_key="wrong"), SERVER, "patrol")
    assert caught.value.status == 401
    assert "refused fieldkit's API key (ENKETO_API_KEY): Not Allowed. Invalid API key." in str(caught.value)


def test_a_server_not_linked_is_a_403(standin):
    with pytest.raises(enketo.EnketoError) as caught:
        enketo.survey_url(config(standin), "https://elsewhere.example.org", "patrol")
    assert caught.value.status == 403
    assert "refused fieldkit's server: Forbidden. This server is not linked with Enketo." in str(caught.value)


def test_offline_turned_off_is_a_405(standin):
    standin.offline_enabled = False
    with pytest.raises(enketo.EnketoError) as caught:
        enketo.offline_url(config(standin), SERVER, "patrol")
    assert caught.value.status == 405
    assert "does not offer this view" in str(caught.value)


def test_missing_form_id_is_a_400(standin):
    with pytest.raises(enketo.EnketoError) as caught:
        enketo.survey_url(config(standin), SERVER, "")
    assert caught.value.status == 400 and "Form ID" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "message", "words"),
    [
        (404, "Survey not found.", "did not find the form: Survey not found."),
        (410, "API v1 is gone.", "no longer offers this API: API v1 is gone."),
        (500, "Redis down", "Enketo failed (500): Redis down."),
    ],
)
def test_other_errors_carry_enketos_message(standin, status, message, words):
    standin.fail_with = (status, message)
    with pytest.raises(enketo.EnketoError) as caught:
        enketo.survey_url(config(standin), SERVER, "patrol")
    assert caught.value.status == status
    assert words in str(caught.value)


def test_enketo_down():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = enketo.EnketoConfig(f"http://127.0.0.1:{port}/-", API_KEY, timeout=2.0)
    with pytest.raises(enketo.EnketoError) as caught:
        enketo.survey_url(down, SERVER, "patrol")
    assert "Enketo cannot be reached" in str(caught.value)


def test_enketo_too_slow(standin):
    standin.delay = 1.0
    with pytest.raises(enketo.EnketoError) as caught:
        enketo.survey_url(config(standin, timeout=0.3), SERVER, "patrol")
    assert str(caught.value) == "Enketo did not answer within 0.3 s."


def test_an_answer_without_the_link_is_an_error(standin):
    standin.fail_with = (200, "ok")
    with pytest.raises(enketo.EnketoError) as caught:
        enketo.survey_url(config(standin), SERVER, "patrol")
    assert str(caught.value) == "Enketo answered 200 without a url."


def test_not_configured(settings):
    settings.ENKETO_URL = ""
    assert enketo.EnketoConfig.from_settings() is None


def test_system_checks(settings):
    from fieldkit import checks

    settings.ENKETO_URL, settings.ENKETO_PUBLIC_URL, settings.ENKETO_API_KEY = "", "", ""
    assert checks.check_enketo() == []
    settings.ENKETO_URL = settings.ENKETO_PUBLIC_URL = "http://enketo:8005/-"
    assert [p.id for p in checks.check_enketo()] == ["fieldkit.W070"]
    settings.ENKETO_API_KEY = "key"
    settings.ENKETO_PUBLIC_URL = "fieldkit.example.org/-"
    assert [p.id for p in checks.check_enketo()] == ["fieldkit.E070"]
