"""OpenRosa endpoints: form list, form download, manifest, media, submission.

Short and linear: the wrapper in protocol.py handles headers, authentication and errors;
the work is in odk_forms.queries and odk_forms.receiving.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils.module_loading import import_string

from accounts import access
from fieldkit import errors
from odk_forms import queries, receiving
from odk_forms.models import FormVersion, MediaFile
from odk_forms.openrosa import responses
from odk_forms.openrosa.protocol import empty_response, openrosa_endpoint, read_body, xml_response

# Parts that are protocol flags, not files (Collect's split uploads).
FLAG_PARTS = {"*isIncomplete*"}


def _url(request: HttpRequest, name: str, **kwargs: Any) -> str:
    """An absolute URL under the same prefix (/, /key/<token>/, /test/<token>/) as `request`."""
    match = request.resolver_match
    assert match is not None
    prefix = {k: v for k, v in match.kwargs.items() if k in ("token", "draft_token")}
    return request.build_absolute_uri(reverse(f"{match.namespace}:{name}", kwargs={**prefix, **kwargs}))


def _version_kwargs(version: FormVersion, draft_token: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"xml_form_id": version.form.xml_form_id}
    if draft_token is None:
        kwargs["version_id"] = version.pk
    return kwargs


def _find_version(
    user: Any, xml_form_id: str, version_id: int | None, draft_token: str | None
) -> FormVersion:
    if draft_token is not None:
        version = queries.draft_version(draft_token)
        if version is not None and version.form.xml_form_id != xml_form_id:
            version = None
    else:
        assert version_id is not None
        version = queries.published_version(user, xml_form_id, version_id)
    if version is None:
        # Also for forms of other areas: their existence is not disclosed.
        raise errors.OPENROSA_NOT_FOUND()
    return version


@access.policy("openrosa")
@openrosa_endpoint(("GET", "HEAD"))
def form_list(request: HttpRequest, user: Any, draft_token: str | None = None) -> HttpResponse:
    if request.method == "HEAD":
        # Enketo probes with HEAD to learn whether (and how) to authenticate.
        return empty_response()
    wanted = request.GET.get("formID")
    if draft_token is not None:
        draft = queries.draft_version(draft_token)
        if draft is None:
            raise errors.OPENROSA_NOT_FOUND()
        versions = [draft] if wanted in (None, draft.form.xml_form_id) else []
    else:
        versions = [form.current_version for form in queries.listed_forms(user, wanted)]  # type: ignore[misc]
    entries = [
        responses.FormListEntry(
            form_id=version.form.xml_form_id,
            name=version.title,
            version=version.version,
            md5=version.md5,
            download_url=_url(request, "form-download", **_version_kwargs(version, draft_token)),
            # Listed whenever the form refers to media, even before they are all uploaded.
            manifest_url=_url(request, "manifest", **_version_kwargs(version, draft_token))
            if version.media_names
            else None,
        )
        for version in versions
    ]
    return xml_response(responses.form_list(entries))


@access.policy("openrosa")
@openrosa_endpoint(("GET",))
def form_download(
    request: HttpRequest,
    user: Any,
    xml_form_id: str,
    version_id: int | None = None,
    draft_token: str | None = None,
) -> HttpResponse:
    version = _find_version(user, xml_form_id, version_id, draft_token)
    # The stored bytes, untouched: their md5 is the hash in the form list.
    response = xml_response(bytes(version.xml))
    response["ETag"] = f'"{version.md5}"'
    return response


@cache
def _media_renderer(name: str) -> Callable[[FormVersion, Any], bytes | None] | None:
    path = settings.ODK_FORMS_USER_MEDIA.get(name)
    return import_string(path) if path else None


def _user_media(version: FormVersion, name: str, user: Any) -> bytes | None:
    """The bytes of a media file made for the user who asks (settings.ODK_FORMS_USER_MEDIA),
    or None when the stored file is served as it is."""
    renderer = _media_renderer(name)
    return renderer(version, user) if renderer is not None else None


@access.policy("openrosa")
@openrosa_endpoint(("GET",))
def manifest(
    request: HttpRequest,
    user: Any,
    xml_form_id: str,
    version_id: int | None = None,
    draft_token: str | None = None,
) -> HttpResponse:
    version = _find_version(user, xml_form_id, version_id, draft_token)
    kwargs = _version_kwargs(version, draft_token)
    # Only the files the server holds (a device cannot download a promise). A file made for
    # this user is listed with the hash of what the media URL serves to this user.
    entries = []
    for media_file in version.media_files.all():
        made = _user_media(version, media_file.name, user)
        entries.append(
            responses.ManifestEntry(
                filename=media_file.name,
                md5=media_file.md5 if made is None else hashlib.md5(made, usedforsecurity=False).hexdigest(),
                download_url=_url(request, "media", filename=media_file.name, **kwargs),
            )
        )
    return xml_response(responses.manifest(entries))


@access.policy("openrosa")
@openrosa_endpoint(("GET",))
def media(
    request: HttpRequest,
    user: Any,
    xml_form_id: str,
    filename: str,
    version_id: int | None = None,
    draft_token: str | None = None,
) -> HttpResponseBase:
    version = _find_version(user, xml_form_id, version_id, draft_token)
    media_file = MediaFile.objects.filter(form_version=version, name=filename).first()
    if media_file is None:
        raise errors.OPENROSA_NOT_FOUND()
    made = _user_media(version, media_file.name, user)
    if made is not None:
        made_response = HttpResponse(made, content_type=media_file.content_type)
        made_response["ETag"] = f'"{hashlib.md5(made, usedforsecurity=False).hexdigest()}"'
        return made_response
    response = FileResponse(media_file.file.open("rb"), content_type=media_file.content_type)
    response["ETag"] = f'"{media_file.md5}"'
    return response


@access.policy("openrosa")
@openrosa_endpoint(("HEAD", "GET", "POST"))
def submission(request: HttpRequest, user: Any, draft_token: str | None = None) -> HttpResponse:
    draft = None
    if draft_token is not None:
        draft = queries.draft_version(draft_token)
        if draft is None:
            raise errors.OPENROSA_NOT_FOUND()
    if request.method != "POST":
        # The probe before a submission: 204 with X-OpenRosa-Accept-Content-Length.
        return empty_response()

    device_id = request.GET.get("deviceID", "")
    with read_body(request) as body:
        if not body.multipart:
            # Kept all the same: it is most likely the XML itself, sent the wrong way.
            raw = body.raw.file if body.raw is not None else None
            receiving.keep_refused(errors.OPENROSA_NOT_MULTIPART(), raw, user=user, device_id=device_id)
        # Every part is handed on, whatever its name: receiving stores them all. The XML
        # part may come as a file or as a plain field, its bytes untouched either way.
        xml_part = next((part for part in body.parts if part.name == receiving.XML_PART), None)
        files = [
            receiving.SentFile(part.name, part.file, part.filename)
            for part in body.parts
            if part is not xml_part and not (part.name in FLAG_PARTS and part.filename is None)
        ]
        received = receiving.receive_submission(
            xml_part.file if xml_part else None, files, user=user, device_id=device_id, draft=draft
        )
    # 201 for a new record and for one received before alike. Collect and Enketo count both
    # 201 and 202 as success; ODK Central always answers 201, so clients built against it
    # meet no surprise, and the message tells the two cases apart for the ranger.
    if received.created:
        text = "Thank you: your record was received."
    elif received.attachments_added:
        text = f"Record already received; {received.attachments_added} file(s) added."
    else:
        text = "Record already received; nothing new."
    return xml_response(responses.message(text, "submit_success"), 201)
