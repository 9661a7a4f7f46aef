"""A client of Enketo Express's API v2: web form links for a form on an OpenRosa server.

Enketo is told which form (`form_id`) on which server (`server_url`, the base URL to
which it appends /formList and /submission) and answers with the links of its views:

- POST /api/v2/survey          -> {"url": ...}          fill in online
- POST /api/v2/survey/offline  -> {"offline_url": ...}  installable, fills in offline
- POST /api/v2/survey/preview  -> {"preview_url": ...}  try the form, nothing is sent
- POST /api/v2/instance        -> {"edit_url": ...}     edit a stored record

200 when Enketo knew the form already, 201 when it registered it. Errors carry
`{"message": ..., "code": ...}`: 400 (bad parameters), 401 (wrong API key), 403 (server not
linked with Enketo, or no quota left), 404, 405 (offline use turned off), 410 (API gone).
The API key is the user name of Basic authentication, with an empty password.

Pure apart from the HTTP call: nothing here touches the database (odk_forms.webforms keeps
the links). The timeout is short because links are shown on pages; when Enketo is down or
answers wrongly an EnketoError says why, in words for the page.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

# What each endpoint answers with.
SURVEY, OFFLINE, PREVIEW, INSTANCE = "survey", "survey/offline", "survey/preview", "instance"
_URL_FIELD = {SURVEY: "url", OFFLINE: "offline_url", PREVIEW: "preview_url", INSTANCE: "edit_url"}

_STATUS_MEANING = {
    400: "Enketo refused the request",
    401: "Enketo refused fieldkit's API key (ENKETO_API_KEY)",
    403: "Enketo refused fieldkit's server",
    404: "Enketo did not find the form",
    405: "Enketo does not offer this view",
    410: "Enketo no longer offers this API",
}


class EnketoError(Exception):
    """Enketo could not give a link; `str()` is a sentence for the page showing the links."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class EnketoConfig:
    api_url: str  # where fieldkit calls Enketo (its base path included), e.g. http://enketo:8005/-
    api_key: str
    public_url: str = ""  # where browsers reach it, e.g. https://fieldkit.example.org/-
    timeout: float = 5.0

    @classmethod
    def from_settings(cls) -> EnketoConfig | None:
        """The configuration in settings; None when fieldkit runs without Enketo."""
        if not settings.ENKETO_URL:
            return None
        return cls(
            api_url=settings.ENKETO_URL,
            api_key=settings.ENKETO_API_KEY,
            public_url=settings.ENKETO_PUBLIC_URL,
            timeout=settings.ENKETO_TIMEOUT,
        )

    def public(self, url: str) -> str:
        """A link Enketo returned, as browsers reach it. Enketo builds its links from the
        Host of fieldkit's request, which inside a compose network is the service's name."""
        internal = self.api_url.rstrip("/")
        if self.public_url and url.startswith(internal + "/"):
            return self.public_url.rstrip("/") + url[len(internal) :]
        return url


def call(config: EnketoConfig, endpoint: str, params: Mapping[str, Any]) -> str:
    """POST `params` to Enketo's `endpoint` (SURVEY, OFFLINE, PREVIEW, INSTANCE) and return
    the link it answers with, made public. Raises EnketoError."""
    body = urlencode(_flatten(params)).encode()
    url = f"{config.api_url.rstrip('/')}/api/v2/{endpoint}"
    if not url.startswith(("http://", "https://")):
        raise EnketoError(f"ENKETO_URL must be an http(s) address, not {config.api_url!r}.")
    request = urllib.request.Request(  # noqa: S310 (checked just above)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{config.api_key}:".encode()).decode(),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=config.timeout) as response:  # noqa: S310 (http(s), checked above)
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as exc:
        raise _error(exc.code, exc.read()) from None
    except TimeoutError:
        raise EnketoError(f"Enketo did not answer within {config.timeout:g} s.") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise EnketoError(f"Enketo did not answer within {config.timeout:g} s.") from None
        raise EnketoError(f"Enketo cannot be reached ({reason}).") from None
    data = _json(payload)
    link = data.get(_URL_FIELD[endpoint]) if isinstance(data, dict) else None
    if status not in (200, 201) or not isinstance(link, str) or not link:
        raise EnketoError(f"Enketo answered {status} without a {_URL_FIELD[endpoint]}.", status)
    return config.public(link)


def survey_url(config: EnketoConfig, server_url: str, form_id: str) -> str:
    return call(config, SURVEY, {"server_url": server_url, "form_id": form_id})


def offline_url(config: EnketoConfig, server_url: str, form_id: str) -> str:
    return call(config, OFFLINE, {"server_url": server_url, "form_id": form_id})


def preview_url(config: EnketoConfig, server_url: str, form_id: str) -> str:
    return call(config, PREVIEW, {"server_url": server_url, "form_id": form_id})


def edit_url(
    config: EnketoConfig,
    server_url: str,
    form_id: str,
    *,
    instance: str,
    instance_id: str,
    attachments: Mapping[str, str],
    return_url: str = "",
) -> str:
    """The edit view of a stored record. `attachments` maps each file name the instance
    refers to to a URL the browser can load it from, so that photos show in the form."""
    params: dict[str, Any] = {
        "server_url": server_url,
        "form_id": form_id,
        "instance": instance,
        "instance_id": instance_id,
        "instance_attachments": dict(attachments),
    }
    if return_url:
        params["return_url"] = return_url
    return call(config, INSTANCE, params)


def _flatten(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Form fields as Enketo (express's extended body parser) reads them: a mapping becomes
    `name[key]=value` fields."""
    fields: list[tuple[str, str]] = []
    for name, value in params.items():
        if isinstance(value, Mapping):
            fields.extend((f"{name}[{key}]", str(item)) for key, item in value.items())
        else:
            fields.append((name, str(value)))
    return fields


def _json(payload: bytes) -> Any:
    try:
        return json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _error(status: int, payload: bytes) -> EnketoError:
    data = _json(payload)
    detail = data.get("message") if isinstance(data, dict) else None
    meaning = _STATUS_MEANING.get(status, f"Enketo answered {status}")
    if status >= 500:
        meaning = f"Enketo failed ({status})"
    message = f"{meaning}: {detail}." if isinstance(detail, str) and detail else f"{meaning}."
    return EnketoError(message.replace("..", "."), status)
