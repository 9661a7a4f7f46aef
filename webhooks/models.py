"""Subscriptions to events, the deliveries made for them and the log of every attempt."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models

from protected_areas.models import ProtectedArea


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class Subscription(models.Model):
    """Where to send the events of some kinds in some areas. What is sent is what `owner`
    may read (webhooks.payloads): a subscription never shows more than its owner's pages."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    areas = models.ManyToManyField(ProtectedArea, related_name="+")
    url = models.URLField(max_length=500)
    # The key of the HMAC-SHA256 signature; shown to the owner, who verifies with it.
    secret = models.CharField(max_length=128, default=new_secret)
    # Of fieldkit.events.KINDS: "submission", "record", "case".
    kinds = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.url} ({', '.join(self.kinds)})"

    @property
    def area_ids(self) -> list[int]:
        return sorted(area.pk for area in self.areas.all())


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One event for one subscription: the JSON body exactly as built when the event
    happened, sent (and signed anew) on every attempt."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    # The event's id in the body: a receiver that got it already ignores a resend.
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16)
    action = models.CharField(max_length=16)
    ref = models.CharField(max_length=64)
    area = models.ForeignKey(ProtectedArea, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    state = models.CharField(max_length=12, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["subscription", "-created_at"], name="delivery_subscription_idx")]

    def __str__(self) -> str:
        return f"{self.kind}.{self.action} {self.ref} → {self.subscription_id} ({self.state})"


class Attempt(models.Model):
    """One POST of a delivery: what the receiver answered, or why nothing came back."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField()
    status_code = models.IntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    duration_ms = models.FloatField()
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {self.status_code or self.error}"
