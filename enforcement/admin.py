"""Admin pages for administrators, read-only: a case changes only through
enforcement.actions, which append every change to the ledger; the ledger itself is never
edited. Law enforcement and managers work on the case pages (/cases/). Alert rules are
set up here."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin_policy import PolicyAdmin, ReadOnlyPolicyAdmin
from enforcement.models import (
    AlertLog,
    AlertRule,
    Case,
    Exhibit,
    LedgerEntry,
    LedgerHead,
    PersonOfInterest,
)


@admin.register(Case)
class CaseAdmin(ReadOnlyPolicyAdmin):
    access_policy = "superuser"
    list_display = ("title", "area", "status", "priority", "opened_at")
    list_filter = ("status", "priority")
    search_fields = ("title", "uuid")


@admin.register(Exhibit)
class ExhibitAdmin(ReadOnlyPolicyAdmin):
    access_policy = "superuser"
    list_display = ("description", "case", "holder", "sha256", "logged_at")


@admin.register(PersonOfInterest)
class PersonOfInterestAdmin(ReadOnlyPolicyAdmin):
    access_policy = "superuser"
    list_display = ("uuid", "name", "redacted_at")
    exclude = ("salt",)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyPolicyAdmin):
    access_policy = "superuser"
    list_display = ("sequence", "kind", "time", "actor", "subject", "entry_hash")
    list_filter = ("kind",)
    search_fields = ("subject", "content_hash", "entry_hash")


@admin.register(LedgerHead)
class LedgerHeadAdmin(ReadOnlyPolicyAdmin):
    access_policy = "superuser"
    list_display = ("chain", "sequence", "entry_hash")


@admin.register(AlertRule)
class AlertRuleAdmin(PolicyAdmin):
    """Rules are set up by administrators (recipients are checked again at each digest)."""

    access_policy = "superuser"
    list_display = ("name", "area", "category", "priority", "window_minutes", "active")
    filter_horizontal = ("recipients",)
    exclude = ("next_digest_at",)


@admin.register(AlertLog)
class AlertLogAdmin(ReadOnlyPolicyAdmin):
    access_policy = "superuser"
    list_display = ("rule", "at", "records", "recipients", "error")
