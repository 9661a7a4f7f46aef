"""Subscriptions for administrators, with the delivery log and "send again"."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet

from accounts.admin_policy import PolicyAdmin, ReadOnlyPolicyAdmin
from webhooks import delivery
from webhooks.models import Attempt, Delivery, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(PolicyAdmin):
    access_policy = "superuser"
    list_display = ("url", "owner", "kinds", "active", "created_at")
    list_filter = ("active",)
    filter_horizontal = ("areas",)


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "at", "status_code", "duration_ms", "error", "response_excerpt")

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyPolicyAdmin):
    access_policy = "superuser"
    list_display = ("event_id", "kind", "action", "ref", "subscription", "state", "attempts", "created_at")
    list_filter = ("state", "kind", "action")
    inlines = [AttemptInline]
    actions = ["send_again"]

    @admin.action(description="Send again")
    def send_again(self, request: Any, queryset: QuerySet[Delivery]) -> None:
        for item in queryset.select_related("subscription"):
            delivery.send_again(item)
        self.message_user(request, f"{queryset.count()} deliveries queued again.", messages.SUCCESS)
