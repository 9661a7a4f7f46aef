"""Receiving submissions: how a submission, a duplicate, a split upload or an edit is
stored, and how a refused one is kept.

Every byte the phone sent is written and fsynced before anything is parsed; the row
committing is what makes the answer a success. Processing happens afterwards
(odk_forms.processing).
"""

from __future__ import annotations

import contextlib
import mimetypes
from dataclasses import dataclass
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from fieldkit import errors
from odk_forms import processing, queries, storage, xform
from odk_forms.models import (
    Attachment,
    Form,
    FormState,
    FormVersion,
    ProcessingState,
    RejectedSubmission,
    Submission,
)


@dataclass(frozen=True)
class Received:
    submission: Submission
    # False when the same XML had already been received (a retry or a split upload).
    created: bool
    attachments_added: int


def receive_submission(
    xml_data: bytes,
    parts: dict[str, IO[bytes]],
    *,
    user: Any,
    device_id: str = "",
    draft: FormVersion | None = None,
    keep_rejected: bool = True,
) -> Received:
    """Store a submission and its attachment parts, then record it.

    The XML and every part are written and fsynced before anything is parsed, so nothing
    the phone sent can be lost by a parsing bug; the row committing is what makes the
    answer a success. `parts` maps each part's name to its file. `draft` is set for the
    test URLs of a draft, where `user` is None. A refused submission keeps its files and
    is recorded as a RejectedSubmission (unless `keep_rejected` is off), then the Problem
    propagates to the caller.
    """
    base = storage.new_upload_base("submissions")
    xml_stored = storage.write_bytes(f"{base}.xml", xml_data)
    stored_parts = _store_parts(base, parts)
    storage.sync_directory(base if stored_parts else base.rsplit("/", 1)[0])
    instance = None
    try:
        instance = _parse(xml_data)
        version = _resolve_version(instance, user, draft)
        referenced = instance.referenced_files(version.binary_paths)
        for attempt in (1, 2):
            try:
                with transaction.atomic():
                    received, leftovers = _record_submission(
                        instance, version, xml_stored, stored_parts, referenced, user, device_id, attempt == 1
                    )
                    if received.created or received.attachments_added:
                        transaction.on_commit(
                            lambda sid=received.submission.pk: processing.enqueue(sid)  # type: ignore[misc]
                        )
                    else:
                        transaction.on_commit(
                            lambda sid=received.submission.pk: processing.requeue_if_stuck(sid)  # type: ignore[misc]
                        )
                break
            except IntegrityError:
                # A concurrent request inserted the same (form, instanceID), or edited the same
                # record, between our read and our insert. The second pass sees its row.
                if attempt == 2:
                    raise
    except errors.Problem as problem:
        if keep_rejected:
            _keep_rejected(problem, instance, xml_data, xml_stored, base, stored_parts, user, device_id)
        else:
            storage.remove_file(xml_stored.name)
            storage.remove_directory(base)
        raise
    except BaseException:
        storage.remove_file(xml_stored.name)
        storage.remove_directory(base)
        raise
    for name in leftovers:
        storage.remove_file(name)
    return received


def _keep_rejected(
    problem: errors.Problem,
    instance: xform.InstanceInfo | None,
    xml_data: bytes,
    xml_stored: storage.StoredFile,
    base: str,
    stored_parts: dict[str, storage.StoredFile],
    user: Any,
    device_id: str,
) -> None:
    if instance is None:
        # Unreadable or incomplete XML: keep what can still be read, for the people
        # looking for a lost record.
        with contextlib.suppress(xform.XMLError):
            instance = xform.parse_instance(xml_data)
    RejectedSubmission.objects.create(
        xml_file=xml_stored.name,
        parts_dir=base if stored_parts else "",
        part_names=list(stored_parts),
        xml_form_id=(instance.form_id or "")[:249] if instance else "",
        instance_id=(instance.instance_id or "")[:249] if instance else "",
        error_code=problem.code,
        error=problem.message,
        submitted_by=user if user is not None and user.is_authenticated else None,
        device_id=device_id[:255],
    )


def receive_rejected(rejected: RejectedSubmission) -> Received:
    """Receive a refused submission again, from its kept files, as its sender. On success
    the rejection is marked accepted and its copies removed; on failure it stays, with the
    new error, and the Problem propagates."""
    xml_data = storage.read_bytes(rejected.xml_file.name)
    parts: dict[str, IO[bytes]] = {}
    try:
        for name in rejected.part_names:
            parts[name] = storage.open_file(f"{rejected.parts_dir}/{name}")
        try:
            received = receive_submission(
                xml_data,
                parts,
                user=rejected.submitted_by,
                device_id=rejected.device_id,
                keep_rejected=False,
            )
        except errors.Problem as problem:
            RejectedSubmission.objects.filter(pk=rejected.pk).update(
                error_code=problem.code, error=problem.message
            )
            raise
    finally:
        for handle in parts.values():
            handle.close()
    RejectedSubmission.objects.filter(pk=rejected.pk).update(
        accepted_as=received.submission, accepted_at=timezone.now()
    )
    storage.remove_file(rejected.xml_file.name)
    if rejected.parts_dir:
        storage.remove_directory(rejected.parts_dir)
    return received


def _store_parts(base: str, parts: dict[str, IO[bytes]]) -> dict[str, storage.StoredFile]:
    if not parts:
        return {}
    storage.make_directory(base)
    stored: dict[str, storage.StoredFile] = {}
    for n, (part_name, upload) in enumerate(parts.items(), start=1):
        name = xform.sanitize_filename(part_name) or f"attachment-{n}"
        if name in stored:
            continue
        stored[name] = storage.write_upload(f"{base}/{name}", upload)
    return stored


def _parse(xml_data: bytes) -> xform.InstanceInfo:
    try:
        instance = xform.parse_instance(xml_data)
    except xform.XMLError as exc:
        raise errors.OPENROSA_BAD_XML(detail=str(exc)) from exc
    if not instance.form_id:
        raise errors.OPENROSA_NO_FORM_ID()
    if instance.encrypted and instance.instance_id_derived:
        raise errors.OPENROSA_ENCRYPTED_WITHOUT_ID()
    if len(instance.instance_id) > xform.MAX_ID_LENGTH or len(instance.deprecated_id) > xform.MAX_ID_LENGTH:
        raise errors.OPENROSA_BAD_INSTANCE_ID()
    return instance


def _resolve_version(instance: xform.InstanceInfo, user: Any, draft: FormVersion | None) -> FormVersion:
    """The published version the submission was filled from (any version, not only the
    current one: phones update forms when they can), or the draft being tested."""
    if draft is not None:
        if instance.form_id != draft.form.xml_form_id:
            raise errors.OPENROSA_UNKNOWN_FORM(form_id=instance.form_id)
        return draft
    # No version attribute: a form without one, else the current version (old clients
    # left the attribute out).
    version = queries.submission_target(user, instance.form_id, instance.version or "")
    if version is not None:
        may_submit = version.may_submit  # type: ignore[attr-defined]
    else:
        form = (
            Form.objects.select_related("current_version")
            .defer("current_version__xml")
            .filter(xml_form_id=instance.form_id)
            .first()
        )
        if form is None or form.current_version is None:
            raise errors.OPENROSA_UNKNOWN_FORM(form_id=instance.form_id)
        if instance.version is not None:
            raise errors.OPENROSA_UNKNOWN_VERSION(form_id=instance.form_id, version=instance.version)
        version = form.current_version
        version.form = form
        may_submit = queries.may_collect(user, form)
    if not may_submit:
        raise errors.OPENROSA_FORBIDDEN_FORM(form_id=instance.form_id)
    if version.form.state == FormState.CLOSED:
        raise errors.OPENROSA_FORM_CLOSED(form_id=instance.form_id)
    return version


def _record_submission(
    instance: xform.InstanceInfo,
    version: FormVersion,
    xml_stored: storage.StoredFile,
    stored_parts: dict[str, storage.StoredFile],
    referenced: frozenset[str],
    user: Any,
    device_id: str,
    optimistic: bool = False,
) -> tuple[Received, list[str]]:
    """The database half of receive_submission; returns the files no row points to.

    `optimistic`: insert without looking for the record first. Nearly every submission is
    new, and the unique constraint catches the others (IntegrityError: the caller runs
    this again, not optimistic), which saves a query on the common path.
    """
    form_id = version.form_id
    existing = None
    # An edit sent again must be recognised before its deprecatedID is checked (which by
    # then names a superseded version): never optimistic.
    if not optimistic or instance.deprecated_id:
        # The row lock serialises a duplicate against a concurrent edit or re-send.
        existing = (
            Submission.objects.select_for_update()
            .filter(form_id=form_id, instance_id=instance.instance_id)
            .first()
        )
    if existing is not None:
        if existing.xml_sha256 != xml_stored.sha256:
            raise errors.OPENROSA_XML_CONFLICT(instance_id=instance.instance_id)
        # The same record again: a retry after a lost answer, or the next batch of a split
        # upload (*isIncomplete*). Keep the first XML file and add what is new.
        added, leftovers = _upsert_attachments(existing, stored_parts, referenced)
        if added:
            Submission.objects.filter(pk=existing.pk).exclude(state=ProcessingState.NEEDS_KEY).update(
                state=ProcessingState.RECEIVED
            )
        return Received(existing, created=False, attachments_added=added), [xml_stored.name, *leftovers]

    previous = None
    if instance.deprecated_id:
        previous = (
            Submission.objects.select_for_update()
            .filter(form_id=form_id, instance_id=instance.deprecated_id)
            .first()
        )
        if previous is None:
            raise errors.OPENROSA_UNKNOWN_DEPRECATED(deprecated_id=instance.deprecated_id)
        if not previous.is_current:
            raise errors.OPENROSA_ALREADY_SUPERSEDED(deprecated_id=instance.deprecated_id)

    submission = Submission.objects.create(
        form_id=form_id,
        form_version=version,
        instance_id=instance.instance_id,
        xml_file=xml_stored.name,
        xml_sha256=xml_stored.sha256,
        xml_size=xml_stored.size,
        is_encrypted=instance.encrypted,
        is_draft=version.is_draft,
        instance_name=instance.instance_name[:255],
        deprecated_id=instance.deprecated_id,
        previous=previous,
        root_id=(previous.root_id or previous.pk) if previous is not None else None,
        submitted_by=user if user is not None and user.is_authenticated else None,
        device_id=device_id[:255],
    )
    rows = [_attachment(submission, name, stored, referenced) for name, stored in stored_parts.items()]
    if previous is not None:
        previous.is_current = False
        previous.save(update_fields=["is_current", "updated"])
        # The edit keeps the files it still refers to and the phone did not send again.
        for kept in previous.attachments.filter(name__in=referenced - stored_parts.keys()):
            rows.append(
                Attachment(
                    submission=submission,
                    name=kept.name,
                    file=kept.file.name,
                    md5=kept.md5,
                    size=kept.size,
                    content_type=kept.content_type,
                    is_referenced=True,
                )
            )
    Attachment.objects.bulk_create(rows)
    return Received(submission, created=True, attachments_added=len(stored_parts)), []


def _attachment(
    submission: Submission, name: str, stored: storage.StoredFile, referenced: frozenset[str]
) -> Attachment:
    return Attachment(
        submission=submission,
        name=name,
        file=stored.name,
        md5=stored.md5,
        size=stored.size,
        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        is_referenced=name in referenced,
    )


def _upsert_attachments(
    submission: Submission, stored_parts: dict[str, storage.StoredFile], referenced: frozenset[str]
) -> tuple[int, list[str]]:
    """Add new parts to a received submission; a part sent again with other bytes replaces
    the old one (same record, same name: the newer upload wins). Returns how many were added
    or replaced, and the files nobody points to any more."""
    if not stored_parts:
        return 0, []
    current = {a.name: a for a in submission.attachments.filter(name__in=stored_parts)}
    new_rows, leftovers, changed = [], [], 0
    for name, stored in stored_parts.items():
        old = current.get(name)
        if old is None:
            new_rows.append(_attachment(submission, name, stored, referenced))
            changed += 1
        elif old.md5 == stored.md5:
            leftovers.append(stored.name)
        else:
            leftovers.append(old.file.name)
            old.file.name, old.md5, old.size = stored.name, stored.md5, stored.size
            old.save(update_fields=["file", "md5", "size"])
            changed += 1
    Attachment.objects.bulk_create(new_rows)
    # A replaced file may still be used by another version of the record: keep those.
    shared = set(Attachment.objects.filter(file__in=leftovers).values_list("file", flat=True))
    return changed, [name for name in leftovers if name not in shared]
