"""Admin pages, read-only: a case changes only through enforcement.actions, which append
every change to the ledger; the ledger itself is never edited. Cases are listed for those
who hold view_cases in their area; the ledger, persons of interest and exhibits are for
administrators (the case pages show them to law enforcement)."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin_policy import ReadOnlyPolicyAdmin
from enforcement.models import Case, Exhibit, LedgerEntry, LedgerHead, PersonOfInterest


@admin.register(Case)
class CaseAdmin(ReadOnlyPolicyAdmin):
    access_policy = "capability:view_cases"
    area_field = "area"
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
