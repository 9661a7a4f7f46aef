"""Web forms: Enketo links for the forms a user may fill, kept per form version, their QR
codes, and a stored record opened in Enketo's edit view.

Who may see which link is decided by the callers through odk_forms.queries (forms a user
may collect with, drafts only for those who manage the form); this module only asks Enketo
and remembers its answers. Without ENKETO_URL nothing here calls anything: `enabled()` is
False and the pages show no link.

Server URLs: the links of fieldkit's own URL ask for a user name and password in Enketo;
a collector's token URL (`/key/<token>`) needs none, as in ODK Collect; a draft's test URL
(`/test/<token>`) gives the preview of the draft.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import qrcode
import qrcode.constants
import qrcode.image.svg
from django.conf import settings
from django.db import IntegrityError, transaction

from fieldkit import errors
from odk_forms import enketo, queries
from odk_forms.models import EnketoSurvey, FormVersion, Submission


@dataclass(frozen=True)
class WebFormLinks:
    url: str = ""
    offline_url: str = ""
    preview_url: str = ""
    # Why there are no links (Enketo down, misconfigured...), in words for the page.
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url or None,
            "offline_url": self.offline_url or None,
            "preview_url": self.preview_url or None,
            "error": self.error or None,
        }


def enabled() -> bool:
    return bool(settings.ENKETO_URL)


def site_server_url() -> str:
    return settings.SITE_URL


def token_server_url(token: str) -> str:
    """A collector's token URL, the same ODK Collect is given: Enketo sends to it without a
    password."""
    return f"{settings.SITE_URL}/key/{token}"


def draft_server_url(version: FormVersion) -> str:
    return f"{settings.SITE_URL}/test/{version.draft_token}"


def links(version: FormVersion, server_url: str, *, fetch: bool = True) -> WebFormLinks | None:
    """The links of `version` on `server_url`: online and offline for a published version,
    the preview for a draft. None when web forms are off. Asked of Enketo the first time
    (unless `fetch` is False: pages listing many forms show what is known), then kept."""
    config = enketo.EnketoConfig.from_settings()
    if config is None:
        return None
    known = EnketoSurvey.objects.filter(form_version=version, server_url=server_url).first()
    if known is not None:
        return WebFormLinks(known.url, known.offline_url, known.preview_url)
    if not fetch:
        return WebFormLinks()
    form_id = version.form.xml_form_id
    found: dict[str, str] = {}
    try:
        if version.is_draft:
            found["preview_url"] = enketo.preview_url(config, server_url, form_id)
        else:
            found["url"] = enketo.survey_url(config, server_url, form_id)
            found["offline_url"] = enketo.offline_url(config, server_url, form_id)
    except enketo.EnketoError as exc:
        return WebFormLinks(error=str(exc))
    try:
        with transaction.atomic():
            EnketoSurvey.objects.create(form_version=version, server_url=server_url, **found)
    except IntegrityError:
        pass  # another request stored the same links first
    return WebFormLinks(**found)


def draft_preview(version: FormVersion, user: Any) -> WebFormLinks | None:
    """The preview of a draft, for those who manage its form only: its test URL lets anyone
    who holds it download the draft and send to it."""
    if not version.is_draft or not version.draft_token or not queries.is_manager_of_form(user, version.form):
        return None
    return links(version, draft_server_url(version))


def qr_png(text: str) -> bytes:
    """A QR code of `text` (a link), as PNG: built like the Collect settings codes of
    accounts.services."""
    image = _qr(text).make_image()
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def qr_svg_data_uri(text: str) -> str:
    """A QR code of `text` as an SVG data: URI, to put in an <img> of a page."""
    image = _qr(text).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    svg = image.to_string(encoding="unicode")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _qr(text: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(text)
    code.make(fit=True)
    return code


def edit_in_browser(
    record: Submission, user: Any, attachment_url: Callable[[Submission, str], str], return_url: str = ""
) -> str:
    """The link of Enketo's edit view of `record`, for `user`. The edit comes back to
    fieldkit as a submission whose deprecatedID is the record's instanceID: a new version
    of the record, through the same path as an edit sent from ODK Collect.

    `attachment_url(record, name)` is where the browser loads each file of the record
    from (Enketo shows the photos from there). Raises a Problem."""
    config = enketo.EnketoConfig.from_settings()
    if config is None:
        raise errors.WEBFORM_NOT_CONFIGURED()
    if not queries.may_edit_submission(user, record):
        raise errors.WEBFORM_EDIT_NOT_ALLOWED(instance_id=record.instance_id)
    if not record.is_current:
        current = _newest_instance_id(record) or "?"
        raise errors.WEBFORM_EDIT_NOT_CURRENT(instance_id=record.instance_id, current=current)
    if record.is_encrypted:
        # Enketo would show the envelope, not the answers; the private key never leaves
        # the person who decrypts.
        raise errors.WEBFORM_EDIT_ENCRYPTED(instance_id=record.instance_id)
    with record.xml_file.open("rb") as handle:
        instance = handle.read().decode("utf-8")
    attachments = {
        a.name: attachment_url(record, a.name) for a in record.attachments.filter(is_referenced=True)
    }
    try:
        return enketo.edit_url(
            config,
            site_server_url(),
            record.form.xml_form_id,
            instance=instance,
            instance_id=record.instance_id,
            attachments=attachments,
            return_url=return_url,
        )
    except enketo.EnketoError as exc:
        raise errors.WEBFORM_UNAVAILABLE(detail=str(exc)) from None


def _newest_instance_id(record: Submission) -> str | None:
    root_id = record.root_id or record.pk
    newest = Submission.objects.filter(form_id=record.form_id, root_id=root_id, is_current=True)
    return newest.values_list("instance_id", flat=True).first()
