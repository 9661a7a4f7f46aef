"""Decrypting stored encrypted submissions with the operator's private key: the write verb
behind `manage.py decrypt_submissions`.

The decrypted XML and media are new files, written and fsynced before the rows that point
to them commit (odk_forms.storage.new_files); the envelope and the .enc files stay exactly
as received. A decrypted submission is queued for processing. The key is used for the call
only and never stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import transaction
from django.db.models import Q, QuerySet

from odk_forms import encryption, processing, storage
from odk_forms.models import Attachment, Form, ProcessingState, Submission
from odk_forms.receiving import attachment_row


class AlreadyDecrypted(Exception):
    """Another run decrypted this submission between our read and our write."""


@dataclass(frozen=True)
class Outcome:
    signature_valid: bool


def not_decrypted(submissions: QuerySet[Submission]) -> QuerySet[Submission]:
    return submissions.filter(is_encrypted=True).filter(Q(decrypted_xml__isnull=True) | Q(decrypted_xml=""))


def decrypt_stored_submission(submission: Submission, key: rsa.RSAPrivateKey) -> Outcome:
    """Decrypt one stored submission, store the result and queue its processing."""
    envelope = encryption.parse_envelope(storage.read_bytes(submission.xml_file.name))
    attachments = {attachment.name: attachment for attachment in submission.attachments.all()}
    encrypted = {
        name: storage.read_bytes(attachments[name].file.name)
        for name in envelope.encrypted_files
        if name in attachments
    }
    result = encryption.decrypt_with_key(envelope, encrypted, key)
    encryption.check_record(envelope, result.xml)
    for name, data in result.media.items():
        existing = attachments.get(name)
        if existing is not None and existing.md5 != hashlib.md5(data, usedforsecurity=False).hexdigest():
            raise encryption.EncryptionError(
                f"an attachment named {name} was also received unencrypted, with other content"
            )

    # Files first, durably; the rows that point to them commit afterwards (as on receipt).
    with storage.new_files("decrypted") as files:
        xml_stored = files.write(".xml", result.xml)
        stored_media = {
            name: files.write_inside(name, data)
            for name, data in result.media.items()
            if name not in attachments
        }
        files.sync()
        with transaction.atomic():
            # The claim: two runs at once never both attach the same files.
            claimed = not_decrypted(Submission.objects.filter(pk=submission.pk)).update(
                decrypted_xml=xml_stored.name, signature_valid=result.signature_valid
            )
            if not claimed:
                raise AlreadyDecrypted
            Attachment.objects.bulk_create(
                attachment_row(submission, name, stored) for name, stored in stored_media.items()
            )
            _queue_processing(submission)
    return Outcome(signature_valid=result.signature_valid)


def _queue_processing(submission: Submission) -> None:
    if not processing.reprocess_submission(submission):
        # Still `received` (never processed, e.g. the broker was down): queue it as it is.
        pk = submission.pk
        if Submission.objects.filter(pk=pk, state=ProcessingState.RECEIVED).exists():
            transaction.on_commit(lambda: processing.enqueue(pk))


def requeue_stranded(form: Form) -> int:
    """Queue again decrypted submissions left waiting for the key: a worker that read the
    submission just before its decryption committed files it as `needs_key` afterwards."""
    stranded = (
        form.submissions.filter(is_encrypted=True, state=ProcessingState.NEEDS_KEY)
        .exclude(decrypted_xml__isnull=True)
        .exclude(decrypted_xml="")
    )
    count = 0
    for submission in stranded:
        with transaction.atomic():
            count += processing.reprocess_submission(submission)
    return count
