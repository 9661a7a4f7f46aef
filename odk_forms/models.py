"""Forms, their versions and media, and the submissions sent to them.

State changes go through odk_forms.publishing, .receiving and .processing; queries scoped to a user through
odk_forms.queries.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from protected_areas.models import ProtectedArea


class FormState(models.TextChoices):
    OPEN = "open", "Open"
    # Accepts submissions (phones still hold filled-in forms) but is no longer listed.
    CLOSING = "closing", "Closing"
    CLOSED = "closed", "Closed"


class Form(models.Model):
    # Globally unique: Collect and Enketo identify a form by this id alone.
    xml_form_id = models.CharField("form ID", max_length=249, unique=True)
    title = models.CharField(max_length=254)
    areas = models.ManyToManyField(ProtectedArea, related_name="odk_forms", blank=True)
    state = models.CharField(max_length=16, choices=FormState.choices, default=FormState.OPEN)
    # The newest published version: the one listed and served. Older versions still accept
    # submissions from phones that have not updated.
    current_version = models.ForeignKey(
        "FormVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["xml_form_id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.xml_form_id})"


def new_draft_token() -> str:
    return secrets.token_urlsafe(32)


def form_source_path(instance: FormVersion, filename: str) -> str:
    return f"forms/{instance.form_id}/sources/{filename}"


class FormVersion(models.Model):
    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=249, blank=True)
    title = models.CharField(max_length=254)
    # The XForm exactly as served: its md5 is the hash in the form list, so these bytes are
    # never re-generated or re-serialised (a drifting hash means "update available" forever).
    xml = models.BinaryField()
    md5 = models.CharField(max_length=32, editable=False)
    # The XLSForm (or XML) as uploaded, kept for people, never served to devices.
    source_file = models.FileField(upload_to=form_source_path, blank=True, max_length=500)
    # Attachment fields (/data/photo) and jr:// media names, read once at publication.
    binary_paths = models.JSONField(default=list, blank=True)
    media_names = models.JSONField(default=list, blank=True)
    base64_rsa_public_key = models.TextField(blank=True)
    warnings = models.JSONField(default=list, blank=True)

    is_draft = models.BooleanField(default=False)
    # The secret of the draft's test URLs (/test/<token>/...); cleared at publication.
    draft_token = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["form", "-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "version"], condition=Q(is_draft=False), name="formversion_unique_published"
            ),
            models.UniqueConstraint(
                fields=["form"], condition=Q(is_draft=True), name="formversion_one_draft"
            ),
        ]

    def __str__(self) -> str:
        label = self.version or "(no version)"
        return f"{self.form.xml_form_id} {label}{' [draft]' if self.is_draft else ''}"

    @property
    def is_encrypted(self) -> bool:
        return bool(self.base64_rsa_public_key)


def media_path(instance: MediaFile, filename: str) -> str:
    return f"forms/{instance.form_version.form_id}/media/{filename}"


class MediaFile(models.Model):
    form_version = models.ForeignKey(FormVersion, on_delete=models.CASCADE, related_name="media_files")
    name = models.CharField(max_length=255)
    # Versions that keep a file share the stored file: a new row, the same path.
    file = models.FileField(upload_to=media_path, max_length=500)
    md5 = models.CharField(max_length=32)
    # SHA-256 of the stored bytes, as storage computed it while writing ("" only for a row
    # whose file could not be read when the field was added).
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["form_version", "name"]
        constraints = [
            models.UniqueConstraint(fields=["form_version", "name"], name="mediafile_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ProcessingState(models.TextChoices):
    RECEIVED = "received", "Received, waiting for processing"
    PROCESSING = "processing", "Processing"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Processing failed"
    # Encrypted and not yet decrypted: nothing can be read until the private key is used.
    NEEDS_KEY = "needs_key", "Encrypted, waiting for decryption"


class Submission(models.Model):
    form = models.ForeignKey(Form, on_delete=models.PROTECT, related_name="submissions")
    form_version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="submissions")
    instance_id = models.CharField("instanceID", max_length=249)
    # Stored verbatim before parsing; the sha256 decides "same record re-sent" vs "conflict".
    xml_file = models.FileField(max_length=500)
    xml_sha256 = models.CharField(max_length=64)
    xml_size = models.PositiveIntegerField(default=0)
    is_encrypted = models.BooleanField(default=False)
    # Filled in by decryption (odk_forms.encryption) for encrypted submissions.
    decrypted_xml = models.FileField(max_length=500, null=True, blank=True)
    # Whether the envelope's signature matched the decrypted files: False means they are
    # not what the phone encrypted (tampered or corrupted); kept for the evidence trail.
    signature_valid = models.BooleanField(null=True, blank=True, editable=False)
    is_draft = models.BooleanField(default=False, help_text="Sent to a draft to test it.")
    instance_name = models.CharField(max_length=255, blank=True)

    # Edits: each edit is a new Submission whose `previous` is the version it replaces.
    # One-to-one, so the database itself refuses two edits of the same version.
    deprecated_id = models.CharField("deprecatedID", max_length=249, blank=True)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    root = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="First version of the record; empty for the first version itself.",
    )
    is_current = models.BooleanField(default=True)

    state = models.CharField(max_length=16, choices=ProcessingState.choices, default=ProcessingState.RECEIVED)
    processing_error = models.TextField(blank=True)
    processing_attempts = models.PositiveIntegerField(default=0)
    # Until when the submission is held: by the worker that claimed it (`processing`), or by
    # the queue it was handed to again (`received`). Past it, the work is taken as lost and
    # odk_forms.processing.sweep hands it out again.
    lease_expires = models.DateTimeField(null=True, blank=True, editable=False)
    # Leases that ran out in a row; past ODK_FORMS_PROCESSING_MAX_LOST_LEASES it is failed.
    leases_lost = models.PositiveSmallIntegerField(default=0, editable=False)
    processed_at = models.DateTimeField(null=True, blank=True)
    # What processing read from the instance (instanceName, attachment counts...).
    metadata = models.JSONField(default=dict, blank=True)

    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    device_id = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # Idempotency lives in the database: two identical submissions racing each other
            # make one row, whatever the application code does.
            models.UniqueConstraint(fields=["form", "instance_id"], name="submission_unique_instance"),
        ]
        indexes = [models.Index(fields=["state", "received_at"], name="submission_state_idx")]

    def __str__(self) -> str:
        return f"{self.form.xml_form_id} {self.instance_id}"


class Attachment(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="attachments")
    # The name the submission XML gives the file (what links it to its record), or for a
    # part the XML does not name, the name it was sent under. The stored file has a
    # sanitised name of its own (odk_forms.receiving).
    name = models.CharField(max_length=255)
    file = models.FileField(max_length=500)
    md5 = models.CharField(max_length=32)
    # SHA-256 of the stored bytes, as storage computed it while writing: what evidence
    # handling cites ("" only for a row whose file could not be read when the field was added).
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=100, blank=True)
    # False for a part the XML does not name. Such parts are kept (a ranger expects nothing
    # sent to be lost, and a renamed question is a common reason) but ignored by processing.
    is_referenced = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["submission", "name"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "name"], name="attachment_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class RejectedSubmission(models.Model):
    """A submission the server refused: unknown or closed form, unknown version, other XML
    under a known instanceID, unreadable XML... The phone keeps its copy, but rangers
    delete sent forms and phones get lost, so the server keeps one too, with the files as
    they arrived. After the cause is fixed (the form published or reopened) it can be
    received again (odk_forms.receiving.receive_rejected)."""

    # Empty when the request had no XML part.
    xml_file = models.FileField(max_length=500, blank=True)
    # Directory of the other parts (photos...), and each part in upload order as
    # {"name": part name, "filename": file name sent (or null), "file": path in storage}:
    # receiving it again matches the sent names to the XML as the first attempt did.
    parts_dir = models.CharField(max_length=500, blank=True)
    parts = models.JSONField(default=list, blank=True)
    # What the XML said, when it could be read.
    xml_form_id = models.CharField("form ID", max_length=249, blank=True)
    instance_id = models.CharField("instanceID", max_length=249, blank=True)
    error_code = models.CharField(max_length=16)
    error = models.TextField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    device_id = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    # Set once it was received again successfully.
    accepted_as = models.ForeignKey(
        Submission, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["xml_form_id", "received_at"], name="rejected_form_idx")]

    def __str__(self) -> str:
        return f"{self.xml_form_id or '?'} {self.instance_id or '?'} ({self.error_code})"


class EnketoSurvey(models.Model):
    """The web form links Enketo gave for a form version on one server URL: fieldkit's own
    (sign in with a password), a collector's token URL (`/key/<token>`, no password) or a
    draft's test URL (`/test/<token>`, preview only). Asked once per version and server URL
    (odk_forms.webforms), so that pages listing forms do not call Enketo on every view."""

    form_version = models.ForeignKey(FormVersion, on_delete=models.CASCADE, related_name="enketo_surveys")
    # Holds a collector's or a draft's token: as secret as the token itself.
    server_url = models.CharField(max_length=500)
    url = models.URLField("online link", max_length=500, blank=True)
    offline_url = models.URLField("offline link", max_length=500, blank=True)
    preview_url = models.URLField("preview link", max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["form_version", "server_url"], name="enketosurvey_unique_server"),
        ]

    def __str__(self) -> str:
        return f"{self.form_version} on {self.server_url}"
