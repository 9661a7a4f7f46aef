"""Export jobs: an export too large to stream while the browser waits, written by a worker
to a file its owner downloads until it expires."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ExportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=64)  # a key of exports.jobs.REGISTRY
    format = models.CharField(max_length=16)
    # The query string's filters, and where the request came from (for the audit trail).
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(null=True, blank=True)
    file = models.FileField(upload_to="exports/", max_length=255, blank=True)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["owner", "created"], name="exportjob_owner_created_idx"),
            models.Index(fields=["status", "expires_at"], name="exportjob_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}.{self.format} for {self.owner_id} ({self.status})"

    @property
    def filename(self) -> str:
        return f"{self.kind}.{self.format}"

    def is_expired(self) -> bool:
        return self.status == self.Status.EXPIRED or (
            self.expires_at is not None and self.expires_at <= timezone.now()
        )
