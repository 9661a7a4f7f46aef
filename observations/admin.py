"""Admin pages. Field records are read-only here: they are made from submissions, and a
correction is an edit of the submission, which updates them. Categories, taxa and the
agencies' fiscal years are reference data that admins maintain."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from observations.models import (
    AgencyFiscalYear,
    BudgetLine,
    BudgetReturn,
    Category,
    METTAssessment,
    METTScore,
    Observation,
    Patrol,
    PatrolLegDay,
    QAFlag,
    Taxon,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["slug", "label_en", "label_tpi", "vertical", "earthranger_event_type", "active"]
    list_filter = ["vertical", "active"]
    search_fields = ["slug", "label_en", "label_tpi"]
    readonly_fields = ["slug", "parent", "depth"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retire a category with `active`; observations point to it


@admin.register(Taxon)
class TaxonAdmin(admin.ModelAdmin):
    list_display = ["scientific_name", "common_name", "taxon_class", "iucn_category", "sensitivity", "active"]
    list_filter = ["iucn_category", "sensitivity", "kingdom", "taxon_class", "active"]
    search_fields = ["scientific_name", "common_name", "slug"]


class LegDayInline(ReadOnlyInline):
    model = PatrolLegDay
    fields = ["day", "start", "end", "rest_minutes", "distance_km", "field_hours", "person_days"]
    readonly_fields = ["day", "start", "end", "rest_minutes", "distance_km", "field_hours", "person_days"]


class QAFlagInline(ReadOnlyInline):
    model = QAFlag
    fk_name = "patrol"
    fields = ["code", "detail", "instance_path"]
    readonly_fields = ["code", "detail", "instance_path"]


@admin.register(Patrol)
class PatrolAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "area", "team", "start", "end", "submission"]
    list_filter = ["area"]
    search_fields = ["patrol_id", "team", "legs__leader"]
    date_hierarchy = "start"
    inlines = [LegDayInline, QAFlagInline]
    list_select_related = ["area", "submission__form"]


@admin.register(Observation)
class ObservationAdmin(ReadOnlyAdmin):
    list_display = ["time", "category", "vertical", "area", "zone", "count", "submission"]
    list_filter = ["vertical", "area"]
    search_fields = ["category__slug", "notes", "observer"]
    date_hierarchy = "time"
    list_select_related = ["area", "zone", "submission__form"]


@admin.register(QAFlag)
class QAFlagAdmin(ReadOnlyAdmin):
    list_display = ["code", "detail", "instance_path", "submission", "created"]
    list_filter = ["code"]
    search_fields = ["detail", "submission__instance_id"]
    list_select_related = ["submission__form"]


class METTScoreInline(ReadOnlyInline):
    model = METTScore
    fields = ["question", "element", "second_element", "score", "comment", "next_steps"]
    readonly_fields = ["question", "element", "second_element", "score", "comment", "next_steps"]


@admin.register(METTAssessment)
class METTAssessmentAdmin(ReadOnlyAdmin):
    list_display = ["area", "year", "version", "score_total", "score_max", "questions_answered", "submission"]
    list_filter = ["area", "year", "version"]
    inlines = [METTScoreInline]


class BudgetLineInline(ReadOnlyInline):
    model = BudgetLine
    fields = ["kind", "category", "planned", "actual"]
    readonly_fields = ["kind", "category", "planned", "actual"]


@admin.register(BudgetReturn)
class BudgetReturnAdmin(ReadOnlyAdmin):
    list_display = [
        "area",
        "fiscal_year",
        "fiscal_year_start",
        "currency",
        "staff_count",
        "need_basic",
        "need_optimal",
    ]
    list_filter = ["area", "fiscal_year"]
    inlines = [BudgetLineInline]


@admin.register(AgencyFiscalYear)
class AgencyFiscalYearAdmin(admin.ModelAdmin):
    list_display = ["agency", "start_month"]
    search_fields = ["agency"]
