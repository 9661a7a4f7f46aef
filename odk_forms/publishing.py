"""Publishing forms: new versions (with their media), drafts, and form states.

Each verb is one transaction; files are written and fsynced before the rows that point to
them commit. Converting and validating a form file is odk_forms.conversion's job.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.db import transaction
from django.utils import timezone

from fieldkit import errors
from odk_forms import conversion, queries, storage, xform
from odk_forms.models import (
    Form,
    FormState,
    FormVersion,
    MediaFile,
    Submission,
    new_draft_token,
)
from protected_areas.models import ProtectedArea


@dataclass(frozen=True)
class MediaUpload:
    name: str
    content: IO[bytes] | bytes


def publish_form_version(
    filename: str,
    content: bytes,
    *,
    media: Sequence[MediaUpload] = (),
    draft: bool = False,
    area_ids: Iterable[int] = (),
    user: Any = None,
    validate: bool | None = None,
) -> FormVersion:
    """Publish (or, with `draft`, stage for testing) a form file as a new version.

    `user` None means a trusted caller (management command); otherwise the user must manage
    every area the form is or will be in. Media not given but held by the current version
    are carried over, as the form usually keeps its pictures and lists between versions.
    """
    wanted_areas = set(area_ids)
    # The right first: converting runs pyxform and ODK Validate (a Java process), which
    # nobody without it may make the server do. Whether the user manages this very form is
    # known only once its id is read, and is checked again then (_record_version).
    if user is not None and not queries.may_publish(user, wanted_areas):
        raise errors.FORM_PUBLISH_NOT_ALLOWED()
    prepared = conversion.prepare_form(filename, content, validate)
    info = prepared.info
    areas = list(ProtectedArea.objects.filter(id__in=wanted_areas))
    if len(areas) != len(wanted_areas):
        missing = sorted(wanted_areas - {a.id for a in areas})
        raise errors.FORM_UNKNOWN_AREAS(ids=", ".join(map(str, missing)))
    uploads = _media_uploads(media, prepared.generated_media)

    # Files first, durably; the rows that point to them commit afterwards.
    with storage.new_files("forms") as files:
        stored_media = {name: files.write_inside(name, upload) for name, upload in uploads.items()}
        source = files.write(f".source{_suffix(filename)}", content)
        files.sync()
        with transaction.atomic():
            return _record_version(info, prepared, source, stored_media, draft, areas, user)


def _suffix(filename: str) -> str:
    name = xform.basename(filename)
    return "." + name.rsplit(".", 1)[1].lower() if "." in name else ""


def _media_uploads(
    media: Sequence[MediaUpload], generated: Sequence[tuple[str, bytes]]
) -> dict[str, IO[bytes] | bytes]:
    """The media files by name: an uploaded file replaces a generated one of the same name
    (the publisher's own itemsets.csv); two different uploads under one name are refused,
    as nobody could tell which one the form gets, and the same file twice is kept once."""
    uploads: dict[str, IO[bytes] | bytes] = dict(generated)
    digests: dict[str, str] = {}
    for item in media:
        name = xform.sanitize_filename(item.name)
        if not name or name != item.name:
            raise errors.FORM_BAD_MEDIA_NAME(name=item.name)
        digest = _sha256(item.content)
        if digests.setdefault(name, digest) != digest:
            raise errors.FORM_DUPLICATE_MEDIA(name=name)
        uploads[name] = item.content
    return uploads


def _sha256(content: IO[bytes] | bytes) -> str:
    if isinstance(content, bytes):
        return hashlib.sha256(content).hexdigest()
    digest = hashlib.sha256()
    content.seek(0)
    for chunk in iter(lambda: content.read(storage.CHUNK), b""):
        digest.update(chunk)
    content.seek(0)
    return digest.hexdigest()


def _record_version(
    info: xform.XFormInfo,
    prepared: conversion.PreparedForm,
    source: storage.StoredFile,
    stored_media: dict[str, storage.StoredFile],
    draft: bool,
    areas: list[ProtectedArea],
    user: Any,
) -> FormVersion:
    form, created = Form.objects.select_for_update().get_or_create(
        xml_form_id=info.form_id, defaults={"title": info.title}
    )
    managed = queries.managed_area_ids(user) if user is not None else None
    if managed is not None:
        if not created and not queries.is_manager_of_form(user, form):
            raise errors.FORM_NOT_MANAGER(form_id=form.xml_form_id)
        if (created and not areas) or not {a.id for a in areas} <= managed:
            raise errors.FORM_NOT_MANAGER(form_id=form.xml_form_id)

    if form.versions.filter(is_draft=False, version=info.version).exists():
        raise errors.FORM_VERSION_EXISTS(form_id=form.xml_form_id, version=info.version)
    if draft:
        for old_draft in form.versions.filter(is_draft=True):
            _discard_draft(old_draft)

    now = timezone.now()
    version = FormVersion.objects.create(
        form=form,
        version=info.version,
        title=info.title,
        xml=prepared.xml,
        md5=hashlib.md5(prepared.xml, usedforsecurity=False).hexdigest(),
        source_file=source.name,
        binary_paths=list(info.binary_paths),
        media_names=list(info.media_names),
        base64_rsa_public_key=info.base64_rsa_public_key,
        warnings=list(prepared.warnings),
        is_draft=draft,
        draft_token=new_draft_token() if draft else None,
        published_at=None if draft else now,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    rows = [
        MediaFile(
            form_version=version,
            name=name,
            file=stored.name,
            md5=stored.md5,
            sha256=stored.sha256,
            size=stored.size,
            content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        )
        for name, stored in stored_media.items()
    ]
    if form.current_version_id is not None:
        # Carry over the files of the current version the new one still refers to.
        for kept in MediaFile.objects.filter(form_version_id=form.current_version_id).exclude(
            name__in=stored_media
        ):
            if kept.name in info.media_names:
                rows.append(
                    MediaFile(
                        form_version=version,
                        name=kept.name,
                        file=kept.file.name,
                        md5=kept.md5,
                        sha256=kept.sha256,
                        size=kept.size,
                        content_type=kept.content_type,
                    )
                )
    MediaFile.objects.bulk_create(rows)

    if not draft:
        form.current_version = version
        form.title = info.title
    form.save()
    if areas:
        form.areas.add(*areas)
    return version


def publish_draft(form: Form, user: Any = None) -> FormVersion:
    """Make the form's draft its current published version."""
    with transaction.atomic():
        form = Form.objects.select_for_update().get(pk=form.pk)
        if user is not None and not queries.is_manager_of_form(user, form):
            raise errors.FORM_NOT_MANAGER(form_id=form.xml_form_id)
        version = form.versions.filter(is_draft=True).first()
        if version is None:
            raise errors.FORM_NO_DRAFT(form_id=form.xml_form_id)
        if form.versions.filter(is_draft=False, version=version.version).exists():
            raise errors.FORM_VERSION_EXISTS(form_id=form.xml_form_id, version=version.version)
        # Test submissions are not field data (ODK Central drops them the same way).
        _delete_submissions(Submission.objects.filter(form_version=version, is_draft=True))
        version.is_draft = False
        version.draft_token = None
        version.published_at = timezone.now()
        version.save(update_fields=["is_draft", "draft_token", "published_at"])
        form.current_version = version
        form.title = version.title
        form.save(update_fields=["current_version", "title", "updated"])
    return version


def _discard_draft(version: FormVersion) -> None:
    _delete_submissions(Submission.objects.filter(form_version=version, is_draft=True))
    version.delete()


def _delete_submissions(submissions: Any) -> None:
    # Edits point at their previous versions (PROTECT): delete newest first.
    for submission in submissions.order_by("-id"):
        submission.delete()


def set_form_state(form: Form, state: str, user: Any = None) -> Form:
    if state not in FormState.values:
        raise ValueError(f"unknown form state {state!r}")
    with transaction.atomic():
        form = Form.objects.select_for_update().get(pk=form.pk)
        if user is not None and not queries.is_manager_of_form(user, form):
            raise errors.FORM_NOT_MANAGER(form_id=form.xml_form_id)
        form.state = state
        form.save(update_fields=["state", "updated"])
    return form
