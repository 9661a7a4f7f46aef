"""The evidence ledger's tables (the chain is defined in enforcement.ledger) and the cases
it covers."""

from __future__ import annotations

import uuid as uuid_module

from django.conf import settings
from django.db import models

from enforcement import ledger


class LedgerHead(models.Model):
    """The head of a chain: one row, locked (SELECT … FOR UPDATE) by every append, so that
    appends are serialised and the chain never forks. It repeats the last entry's sequence
    and hash, which verification compares with the chain's end: removing entries from the
    end shows there."""

    chain = models.CharField(max_length=32, unique=True, default="evidence")
    sequence = models.BigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default=ledger.GENESIS)

    def __str__(self) -> str:
        return f"{self.chain} {self.sequence}:{self.entry_hash}"

    @property
    def head(self) -> ledger.Head:
        return ledger.Head(self.sequence, self.entry_hash)


class LedgerEntry(models.Model):
    """One entry of the chain, exactly the fields enforcement.ledger hashes. The unique
    sequence and the unique previous hash are a second guard against a fork: two appends
    that both read the same head cannot both be stored."""

    sequence = models.BigIntegerField(unique=True)
    kind = models.CharField(max_length=32)
    time = models.DateTimeField()
    actor = models.CharField(max_length=100)
    subject = models.CharField(max_length=300, db_index=True)
    content_hash = models.CharField(max_length=64, db_index=True)
    file = models.CharField(max_length=500, null=True, blank=True)
    previous_hash = models.CharField(max_length=64, unique=True)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"{self.sequence} {self.kind} {self.subject}"

    def as_entry(self) -> ledger.Entry:
        return ledger.Entry(
            self.sequence,
            self.kind,
            self.time,
            self.actor,
            self.subject,
            self.content_hash,
            self.file,
            self.previous_hash,
            self.entry_hash,
        )


class CaseStatus(models.TextChoices):
    REPORTED = "reported", "Reported"
    VERIFIED = "verified", "Verified"
    UNDER_INVESTIGATION = "under_investigation", "Under investigation"
    REFERRED = "referred", "Referred for prosecution"
    IN_COURT = "in_court", "In court"
    OUTCOME_RECORDED = "outcome_recorded", "Outcome recorded"
    CLOSED = "closed", "Closed"
    DISMISSED = "dismissed", "Dismissed"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class Case(models.Model):
    """A law-enforcement case of one area, followed from a report to a court outcome. Every
    change goes through enforcement.actions, which appends it to the ledger."""

    uuid = models.UUIDField(unique=True, default=uuid_module.uuid4, editable=False)
    area = models.ForeignKey("protected_areas.ProtectedArea", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=24, choices=CaseStatus.choices, default=CaseStatus.REPORTED)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField()
    outcome = models.TextField(blank=True)
    penalty = models.CharField(max_length=200, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def subject(self) -> str:
        """How the ledger names the case."""
        return f"case:{self.uuid}"


class StatusChange(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=24, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=CaseStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"


class CaseRecord(models.Model):
    """A field record linked to a case, by its stable identity (Observation.record_uuid), so
    that the link survives reprocessing and edits sent from the phone."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="records")
    record_uuid = models.UUIDField()
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    linked_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "record_uuid"], name="case_record_once")]

    def __str__(self) -> str:
        return str(self.record_uuid)


class PersonOfInterest(models.Model):
    """A person followed across cases and areas (repeat offenders). Personal data: its facts
    enter the ledger hashed with `salt`, a random value of its own, so that the hash cannot
    be found by hashing guesses, and so that the data can be removed (redact_person) while
    the chain still verifies."""

    PERSONAL_FIELDS = ("name", "aliases", "identity_document", "birth_year", "description")

    uuid = models.UUIDField(unique=True, default=uuid_module.uuid4, editable=False)
    name = models.CharField(max_length=200, blank=True)
    aliases = models.CharField(max_length=200, blank=True)
    identity_document = models.CharField(max_length=100, blank=True)
    birth_year = models.PositiveIntegerField(null=True, blank=True)
    description = models.TextField(blank=True)
    salt = models.CharField(max_length=32, blank=True)
    redacted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "persons of interest"

    def __str__(self) -> str:
        return self.name or f"person {self.uuid}"

    @property
    def subject(self) -> str:
        return f"person:{self.uuid}"


class PartyRole(models.TextChoices):
    SUSPECT = "suspect", "Suspect"
    WITNESS = "witness", "Witness"
    INFORMANT = "informant", "Informant"


class CaseParty(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="parties")
    person = models.ForeignKey(PersonOfInterest, on_delete=models.PROTECT, related_name="cases")
    role = models.CharField(max_length=16, choices=PartyRole.choices, default=PartyRole.SUSPECT)
    linked_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "case parties"
        constraints = [models.UniqueConstraint(fields=["case", "person", "role"], name="case_party_once")]

    def __str__(self) -> str:
        return f"{self.role} in {self.case_id}"


class Exhibit(models.Model):
    """A piece of evidence: a seized item, a photo from the submission, an uploaded file,
    with the SHA-256 of its file when it was logged."""

    uuid = models.UUIDField(unique=True, default=uuid_module.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="exhibits")
    description = models.CharField(max_length=300)
    file = models.FileField(max_length=500, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(default=0)
    record_uuid = models.UUIDField(null=True, blank=True)
    holder = models.CharField(max_length=200, blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    logged_at = models.DateTimeField()

    class Meta:
        ordering = ["logged_at", "id"]

    def __str__(self) -> str:
        return self.description

    @property
    def subject(self) -> str:
        return f"exhibit:{self.uuid}"


class CustodyTransfer(models.Model):
    exhibit = models.ForeignKey(Exhibit, on_delete=models.PROTECT, related_name="custody")
    from_holder = models.CharField(max_length=200)
    to_holder = models.CharField(max_length=200)
    reason = models.TextField()
    received_by = models.CharField(max_length=200)
    at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_holder} → {self.to_holder}"


class CaseNote(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class Redaction(models.Model):
    """Personal data removed: the record the ledger's redaction entry hashes (who, when,
    which fields, why; never the values removed)."""

    person = models.ForeignKey(PersonOfInterest, on_delete=models.PROTECT, related_name="redactions")
    record = models.JSONField()
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"redaction of {self.person_id}"


class AlertRule(models.Model):
    """Send an e-mail to `recipients` when a record of `category` (or below it) arrives from
    `area`: at most one digest per `window_minutes`, however many records come in."""

    name = models.CharField(max_length=200)
    area = models.ForeignKey("protected_areas.ProtectedArea", on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=128, help_text="A category slug; its subtree matches too.")
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.HIGH)
    window_minutes = models.PositiveIntegerField(default=15)
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+")
    active = models.BooleanField(default=True)
    # The start of the next interval that may send a digest: claimed by a conditional UPDATE.
    next_digest_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return self.name


class AlertLog(models.Model):
    """One digest sent (or that failed to send) for a rule."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="logs")
    at = models.DateTimeField()
    recipients = models.JSONField(default=list)
    records = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.rule} at {self.at:%Y-%m-%d %H:%M}"


class PendingAlert(models.Model):
    """A matching record waiting for its rule's next digest."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="pending")
    record_uuid = models.UUIDField()
    category = models.CharField(max_length=128)
    observed_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField()
    log = models.ForeignKey(AlertLog, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "record_uuid"], name="pending_alert_once")]
        indexes = [models.Index(fields=["rule", "log"])]

    def __str__(self) -> str:
        return str(self.record_uuid)
