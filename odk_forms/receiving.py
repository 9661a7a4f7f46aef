"""Receiving submissions: how a submission, a duplicate, a split upload or an edit is
stored, and how a refused one is kept.

Every byte the phone sent is written and fsynced before anything is parsed; the row
committing is what makes the answer a success. Processing happens afterwards
(odk_forms.processing).

Files keep two names. On disk each part gets a name of its own in the submission's
directory (sanitised, made unique), so no part can overwrite or hide another. In the
database an attachment is named as the XML names it (Attachment.name), which is what links
a photo to its record: a part is matched to a name the XML uses by the name it was sent
under, exactly, or else after dropping folders and normalising Unicode (and undoing the
%22, %0D, %0A with which browsers and OkHttp escape `"` and line breaks in part names).
A part the XML does not name keeps the name it was sent under and is flagged unreferenced.
Two different files claiming one name cannot be told apart: the submission is refused and
kept whole, for a person to sort out. The same bytes sent twice are kept once.
"""

from __future__ import annotations

import contextlib
import logging
import mimetypes
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, NoReturn

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from fieldkit import db, errors
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

logger = logging.getLogger(__name__)

# The OpenRosa name of the part that holds the submission XML.
XML_PART = "xml_submission_file"
# The XML is parsed in memory, so it gets its own cap; a record's text is a few kB, and
# files travel in their own, streamed parts.
MAX_XML_BYTES = 10_000_000
# Attachment.name's length: a longer name cannot be recorded as sent.
MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class SentFile:
    """A file as the client sent it: the part's name (ODK Collect and Enketo name each part
    after its file), the file name it gave (None for a plain form field) and the bytes."""

    name: str
    file: IO[bytes]
    filename: str | None = None


@dataclass(frozen=True)
class Received:
    submission: Submission
    # False when the same XML had already been received (a retry or a split upload).
    created: bool
    attachments_added: int


@dataclass(frozen=True)
class _StoredPart:
    name: str
    filename: str | None
    stored: storage.StoredFile

    @property
    def sent_names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.name, self.filename) if n)

    @property
    def label(self) -> str:
        """The name it is recorded under when the XML does not name it."""
        return self.filename or self.name


@dataclass
class _Stored:
    base: str
    xml: storage.StoredFile | None = None
    parts: list[_StoredPart] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.xml is None and not self.parts


def receive_submission(
    xml: bytes | IO[bytes] | None,
    parts: Mapping[str, IO[bytes]] | Iterable[SentFile] = (),
    *,
    user: Any,
    device_id: str = "",
    draft: FormVersion | None = None,
    keep_rejected: bool = True,
) -> Received:
    """Store a submission and its attachment parts, then record it.

    The XML and every part are written and fsynced before anything is parsed, so nothing
    the phone sent can be lost by a parsing bug; the row committing is what makes the
    answer a success. `xml` is None when the request had no XML part. `parts` are the
    files as sent, or a mapping of file names to files for callers that build submissions
    themselves. `draft` is set for the test URLs of a draft, where `user` is None. A
    refused submission keeps its files and is recorded as a RejectedSubmission (unless
    `keep_rejected` is off), then the Problem propagates to the caller.
    """
    with storage.new_files("submissions") as files:
        stored = _store(files, xml, _sent_files(parts))
        instance = None
        xml_data = None
        try:
            xml_stored, xml_data = _xml_bytes(xml, stored)
            instance = _parse(xml_data)
            version = _resolve_version(instance, user, draft)
            referenced = instance.referenced_files(version.binary_paths)
            named, duplicates = _name_parts(stored, referenced)
            for attempt in (1, 2):
                try:
                    with transaction.atomic():
                        received, leftovers = _record_submission(
                            instance, version, xml_stored, named, referenced, user, device_id, attempt == 1
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
                    # A concurrent request inserted the same (form, instanceID), or edited the
                    # same record, between our read and our insert. The second pass sees its row.
                    if attempt == 2:
                        raise
        except errors.Problem as problem:
            if keep_rejected and not stored.empty:
                files.keep()
                _keep_rejected(problem, instance, xml_data, stored, user, device_id)
            raise
        except DatabaseError as exc:
            if not db.is_transient(exc):
                raise
            # Busy or unreachable database: the phone is told to send again (503) and keeps
            # its copy; the bytes stay on disk too, named in the log, for whoever recovers
            # by hand.
            files.keep()
            logger.warning("Database busy; submission kept on disk unrecorded at %s", stored.base)
            raise errors.OPENROSA_SERVER_BUSY() from exc
    for name in [*leftovers, *duplicates]:
        storage.remove_file(name)
    return received


def keep_refused(
    problem: errors.Problem,
    xml: bytes | IO[bytes] | None,
    parts: Mapping[str, IO[bytes]] | Iterable[SentFile] = (),
    *,
    user: Any,
    device_id: str = "",
) -> NoReturn:
    """Store what arrived with a request refused before it could be read as a submission
    (a body that is not multipart: `xml` is then the whole body), record it as a
    RejectedSubmission, and raise `problem`. Nothing is recorded when nothing arrived."""
    with storage.new_files("submissions") as files:
        stored = _store(files, xml, _sent_files(parts))
        if stored.parts or (stored.xml is not None and stored.xml.size > 0):
            files.keep()
            _keep_rejected(problem, None, None, stored, user, device_id)
        raise problem


def _sent_files(parts: Mapping[str, IO[bytes]] | Iterable[SentFile]) -> list[SentFile]:
    if isinstance(parts, Mapping):
        return [SentFile(name, upload, name) for name, upload in parts.items()]
    return list(parts)


def _store(files: storage.NewFiles, xml: bytes | IO[bytes] | None, parts: Sequence[SentFile]) -> _Stored:
    """Write the XML and every part, each under a name of its own, and fsync them."""
    stored = _Stored(files.base)
    if xml is not None:
        stored.xml = files.write(".xml", xml)
    used: set[str] = set()
    for n, part in enumerate(parts, start=1):
        disk_name = _unique_name(xform.sanitize_filename(part.filename or part.name), n, used)
        written = files.write_inside(disk_name, part.file)
        stored.parts.append(_StoredPart(part.name, part.filename, written))
    files.sync()
    return stored


def _unique_name(name: str, n: int, used: set[str]) -> str:
    """`name`, or `name` with a number added, unused so far in one directory (compared
    without case: some file systems do not tell p.jpg from P.JPG)."""
    name = name or f"attachment-{n}"
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, dot, ext = name, "", ""
    candidate, k = name, 1
    while candidate.casefold() in used:
        k += 1
        candidate = f"{stem}-{k}{dot}{ext}"
    used.add(candidate.casefold())
    return candidate


def _xml_bytes(xml: bytes | IO[bytes] | None, stored: _Stored) -> tuple[storage.StoredFile, bytes]:
    """The stored XML and its bytes (as stored), within the cap."""
    if stored.xml is None or xml is None:
        raise errors.OPENROSA_MISSING_XML()
    if stored.xml.size > MAX_XML_BYTES:
        raise errors.OPENROSA_XML_TOO_LARGE(
            size=f"{stored.xml.size / 1e6:.0f}", limit=f"{MAX_XML_BYTES / 1e6:g}"
        )
    if isinstance(xml, bytes):
        return stored.xml, xml
    xml.seek(0)
    return stored.xml, xml.read()


def _loose(name: str) -> str:
    """A sent name as it compares with the names of the XML when it is not one of them."""
    unescaped = name.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")
    return unicodedata.normalize("NFC", xform.basename(unescaped))


def _name_parts(
    stored: _Stored, referenced: frozenset[str]
) -> tuple[dict[str, storage.StoredFile], list[str]]:
    """The name each stored part is recorded under (see the module docstring), and the
    files that are byte-for-byte copies of another part (kept once)."""
    claims: dict[str, list[_StoredPart]] = {}
    copies_of_xml: list[str] = []
    unmatched: list[_StoredPart] = []
    for part in stored.parts:
        if part.name == XML_PART:
            # A second XML part: harmless if it is the same XML, else which is the record?
            if stored.xml is not None and part.stored.sha256 == stored.xml.sha256:
                copies_of_xml.append(part.stored.name)
                continue
            raise errors.OPENROSA_BAD_FILE_NAMES(detail=f"two different {XML_PART} parts")
        exact = next((n for n in part.sent_names if n in referenced), None)
        if exact is not None:
            claims.setdefault(exact, []).append(part)
        else:
            unmatched.append(part)
    # Loose matches only for the names no part was sent under exactly.
    loose: dict[str, set[str]] = {}
    for name in referenced - claims.keys():
        loose.setdefault(_loose(name), set()).add(name)
    labels = {part.label for part in unmatched}
    for n, part in enumerate(unmatched, start=1):
        targets = {t for sent in part.sent_names for t in loose.get(_loose(sent), ())}
        if len(targets) == 1:
            name = targets.pop()
        elif part.label and xform.basename(part.label) not in ("", ".", ".."):
            name = part.label
        else:
            name, k = f"attachment-{n}", 1
            while name in labels or name in referenced or name in claims:
                k += 1
                name = f"attachment-{n}-{k}"
        claims.setdefault(name, []).append(part)

    named: dict[str, storage.StoredFile] = {}
    duplicates = copies_of_xml
    for name, claimants in claims.items():
        if len(name) > MAX_NAME_LENGTH:
            raise errors.OPENROSA_BAD_FILE_NAMES(
                detail=f"the file name {name[:40]!r}… is longer than {MAX_NAME_LENGTH} characters"
            )
        if len({c.stored.sha256 for c in claimants}) > 1:
            raise errors.OPENROSA_BAD_FILE_NAMES(
                detail=f"{len(claimants)} different files are sent as {name!r}"
            )
        named[name] = claimants[0].stored
        duplicates.extend(c.stored.name for c in claimants[1:])
    return named, duplicates


def _keep_rejected(
    problem: errors.Problem,
    instance: xform.InstanceInfo | None,
    xml_data: bytes | None,
    stored: _Stored,
    user: Any,
    device_id: str,
) -> None:
    if instance is None and xml_data is not None:
        # Unreadable or incomplete XML: keep what can still be read, for the people
        # looking for a lost record.
        with contextlib.suppress(xform.XMLError):
            instance = xform.parse_instance(xml_data)
    RejectedSubmission.objects.create(
        xml_file=stored.xml.name if stored.xml is not None else "",
        parts_dir=stored.base if stored.parts else "",
        parts=[{"name": p.name, "filename": p.filename, "file": p.stored.name} for p in stored.parts],
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
    new error, and the Problem propagates. The parts go in with the names they were sent
    under, so they are matched to the XML as on the first attempt."""
    handles: list[IO[bytes]] = []
    try:
        xml = storage.open_file(rejected.xml_file.name) if rejected.xml_file.name else None
        if xml is not None:
            handles.append(xml)
        sent = []
        for part in rejected.parts:
            handles.append(storage.open_file(part["file"]))
            sent.append(SentFile(part["name"], handles[-1], part.get("filename")))
        try:
            received = receive_submission(
                xml,
                sent,
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
        for handle in handles:
            handle.close()
    RejectedSubmission.objects.filter(pk=rejected.pk).update(
        accepted_as=received.submission, accepted_at=timezone.now()
    )
    if rejected.xml_file.name:
        storage.remove_file(rejected.xml_file.name)
    if rejected.parts_dir:
        storage.remove_directory(rejected.parts_dir)
    return received


def _parse(xml_data: bytes) -> xform.InstanceInfo:
    try:
        instance = xform.parse_instance(xml_data)
    except xform.XMLError as exc:
        raise errors.OPENROSA_BAD_XML(detail=str(exc)) from exc
    if not instance.form_id:
        raise errors.OPENROSA_NO_FORM_ID()
    if instance.encrypted and instance.instance_id_derived:
        raise errors.OPENROSA_ENCRYPTED_WITHOUT_ID()
    if len(instance.instance_id) > xform.MAX_ID_LENGTH:
        raise errors.OPENROSA_BAD_INSTANCE_ID()
    if len(instance.deprecated_id) > xform.MAX_ID_LENGTH:
        raise errors.OPENROSA_BAD_DEPRECATED_ID()
    return instance


def _resolve_version(instance: xform.InstanceInfo, user: Any, draft: FormVersion | None) -> FormVersion:
    """The published version the submission was filled from (any version, not only the
    current one: phones update forms when they can), or the draft being tested.

    The right to submit is checked before anything specific is said: a form the user may
    not send to is answered exactly like a form that does not exist (404.7), so that nobody
    learns which forms, versions or states other areas have."""
    if draft is not None:
        if instance.form_id != draft.form.xml_form_id:
            raise errors.OPENROSA_UNKNOWN_FORM(form_id=instance.form_id)
        return draft
    # No version attribute: a form without one, else the current version (old clients
    # left the attribute out).
    version = queries.submission_target(user, instance.form_id, instance.version or "")
    if version is None:
        form = (
            Form.objects.select_related("current_version")
            .defer("current_version__xml")
            .filter(xml_form_id=instance.form_id)
            .first()
        )
        if form is None or form.current_version is None or not queries.may_collect(user, form):
            raise errors.OPENROSA_UNKNOWN_FORM(form_id=instance.form_id)
        if instance.version is not None:
            raise errors.OPENROSA_UNKNOWN_VERSION(form_id=instance.form_id, version=instance.version)
        version = form.current_version
        version.form = form
    elif not version.may_submit:  # type: ignore[attr-defined]
        raise errors.OPENROSA_UNKNOWN_FORM(form_id=instance.form_id)
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

    Who may edit whose records (an edit names the version it replaces in deprecatedID) is
    queries.may_edit_submission: the sender of the record, managers and members of the
    sender's areas of the form, superusers. On a draft's test URL, only the draft's own
    test records can be edited.
    """
    form_id = version.form_id
    # An edit sent again must be recognised before its deprecatedID is checked (which by
    # then names a superseded version): never optimistic.
    if not optimistic or instance.deprecated_id:
        existing = _locked_record(form_id, instance.instance_id)
        if existing is not None:
            return _received_again(existing, instance, xml_stored, stored_parts, referenced)

    previous = None
    if instance.deprecated_id:
        # The row lock serialises two edits of one version.
        previous = (
            Submission.objects.select_for_update()
            .filter(form_id=form_id, instance_id=instance.deprecated_id, is_draft=version.is_draft)
            .first()
        )
        if previous is None:
            raise errors.OPENROSA_UNKNOWN_DEPRECATED(deprecated_id=instance.deprecated_id)
        if not version.is_draft and not queries.may_edit_submission(user, previous):
            raise errors.OPENROSA_EDIT_NOT_ALLOWED(deprecated_id=instance.deprecated_id)
        if not previous.is_current:
            # Replaced while this request waited for the lock. By this very edit (the same
            # instanceID: a resend racing its first send), it is a duplicate, not a conflict.
            winner = _locked_record(form_id, instance.instance_id)
            if winner is not None:
                return _received_again(winner, instance, xml_stored, stored_parts, referenced)
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
    rows = [attachment_row(submission, name, stored, referenced) for name, stored in stored_parts.items()]
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
                    sha256=kept.sha256,
                    size=kept.size,
                    content_type=kept.content_type,
                    is_referenced=True,
                )
            )
    Attachment.objects.bulk_create(rows)
    return Received(submission, created=True, attachments_added=len(stored_parts)), []


def _locked_record(form_id: int, instance_id: str) -> Submission | None:
    # The row lock serialises a duplicate against a concurrent edit or re-send.
    return Submission.objects.select_for_update().filter(form_id=form_id, instance_id=instance_id).first()


def _received_again(
    existing: Submission,
    instance: xform.InstanceInfo,
    xml_stored: storage.StoredFile,
    stored_parts: dict[str, storage.StoredFile],
    referenced: frozenset[str],
) -> tuple[Received, list[str]]:
    """The same record again: a retry after a lost answer, or the next batch of a split
    upload (*isIncomplete*). Keep the first XML file and add what is new."""
    if existing.xml_sha256 != xml_stored.sha256:
        raise errors.OPENROSA_XML_CONFLICT(instance_id=instance.instance_id)
    added, leftovers = _upsert_attachments(existing, stored_parts, referenced)
    if added:
        Submission.objects.filter(pk=existing.pk).exclude(state=ProcessingState.NEEDS_KEY).update(
            state=ProcessingState.RECEIVED
        )
    return Received(existing, created=False, attachments_added=added), [xml_stored.name, *leftovers]


def attachment_row(
    submission: Submission, name: str, stored: storage.StoredFile, referenced: frozenset[str] | None = None
) -> Attachment:
    """The Attachment row of a stored file (not saved); `referenced`: the names the XML
    gives its files (None: the XML names this one)."""
    return Attachment(
        submission=submission,
        name=name,
        file=stored.name,
        md5=stored.md5,
        sha256=stored.sha256,
        size=stored.size,
        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        is_referenced=referenced is None or name in referenced,
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
            new_rows.append(attachment_row(submission, name, stored, referenced))
            changed += 1
        elif old.md5 == stored.md5:
            leftovers.append(stored.name)
        else:
            leftovers.append(old.file.name)
            old.file.name, old.md5, old.sha256, old.size = stored.name, stored.md5, stored.sha256, stored.size
            old.save(update_fields=["file", "md5", "sha256", "size"])
            changed += 1
    Attachment.objects.bulk_create(new_rows)
    # A replaced file may still be used by another version of the record: keep those.
    shared = set(Attachment.objects.filter(file__in=leftovers).values_list("file", flat=True))
    return changed, [name for name in leftovers if name not in shared]
