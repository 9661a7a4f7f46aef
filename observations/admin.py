"""Admin pages. Field records are read-only here: they are made from submissions, and a
correction is an edit of the submission, which updates them. Categories, taxa, sensitivity
rules and the agencies' fiscal years are reference data that administrators maintain.

Every page follows the access policy (accounts.admin_policy): the records of the user's
areas only; an observation's point as observations.sensitivity.located gives it to this
user; personal fields only where they are open to it; each display of an exact sensitive
point or personal data is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from accounts import access
from accounts.admin_policy import PolicyAdmin, ReadOnlyPolicyAdmin
from observations import queries, sensitivity
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
    SensitivityRule,
    Taxon,
)

SUSPECT_NAMES = "observations.illicitactivity.suspect_names"
OBSERVER = "observations.observation.observer"
LEADER = "observations.patrolleg.leader"


def _reads_everywhere(request: HttpRequest, field: str) -> bool:
    """Whether a personal field is open to the user in every area: only then may it search
    on it (a search elsewhere would tell who is in records it may not read)."""
    return access.area_ids_with(request.user, access.PERSONAL_FIELDS[field]) is None


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Category)
class CategoryAdmin(PolicyAdmin):
    list_display = ["slug", "label_en", "label_tpi", "vertical", "earthranger_event_type", "active"]
    list_filter = ["vertical", "active"]
    search_fields = ["slug", "label_en", "label_tpi"]
    readonly_fields = ["slug", "parent", "depth"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retire a category with `active`; observations point to it


@admin.register(Taxon)
class TaxonAdmin(PolicyAdmin):
    list_display = ["scientific_name", "common_name", "taxon_class", "iucn_category", "sensitivity", "active"]
    list_filter = ["iucn_category", "sensitivity", "kingdom", "taxon_class", "active"]
    search_fields = ["scientific_name", "common_name", "slug"]


@admin.register(SensitivityRule)
class SensitivityRuleAdmin(PolicyAdmin):
    """A taxon made more sensitive in one area or nationally."""

    list_display = ["taxon", "area", "national", "level", "reason", "created"]
    list_filter = ["level", "national", "area"]
    search_fields = ["taxon__scientific_name", "reason"]
    autocomplete_fields = ["taxon"]


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
class PatrolAdmin(ReadOnlyPolicyAdmin):
    access_policy = "capability:view_records"
    list_display = ["__str__", "area", "team", "start", "end", "submission"]
    list_filter = ["area"]
    search_fields = ["patrol_id", "team"]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        extra = ["legs__leader"] if _reads_everywhere(request, LEADER) else []
        return [*self.search_fields, *extra]

    date_hierarchy = "start"
    inlines = [LegDayInline, QAFlagInline]
    list_select_related = ["area", "submission__form"]


# What the observation page shows: the location and personal fields through the policy.
OBSERVATION_FIELDS = (
    "time",
    "category",
    "vertical",
    "area",
    "shown_zone",
    "count",
    "notes",
    "shown_location",
    "uncertainty_m",
    "generalisation",
    "shown_observer",
    "illicit_details",
    "photos",
    "patrol",
    "submission",
)


@admin.register(Observation)
class ObservationAdmin(ReadOnlyPolicyAdmin):
    # Law enforcement reads the illicit-activity records of its areas: the queryset is
    # observations.queries.observations_visible_to, narrower than the capability.
    access_policy = "capability:view_illicit_records"
    list_display = ["time", "category", "vertical", "area", "count", "submission"]
    list_filter = ["vertical", "area"]
    search_fields = ["category__slug", "notes"]
    date_hierarchy = "time"
    list_select_related = ["area", "submission__form"]
    fields = OBSERVATION_FIELDS
    readonly_fields = OBSERVATION_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return sensitivity.with_levels(queries.observations_visible_to(request.user))

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        extra = ["observer"] if _reads_everywhere(request, OBSERVER) else []
        return [*self.search_fields, *extra]

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            # What this user may see of this record, decided once for the display methods
            # (which get no request) and for the audit.
            view = sensitivity.UserView.of(request.user)
            obj.shown = sensitivity.located(obj, view)
            obj.reads_observer = view.reads(OBSERVER, obj.area_id)
            obj.reads_suspects = view.reads(SUSPECT_NAMES, obj.area_id)
        return obj

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = self.get_object(request, object_id)
        if obj is not None and response.status_code == 200:
            disclosed = ["location"] if sensitivity.exact_sensitive(obj.shown) else []
            if obj.reads_observer and obj.observer:
                disclosed.append("observer")
            illicit = _illicit(obj)
            if obj.reads_suspects and illicit is not None and illicit.suspect_names:
                disclosed.append("suspect_names")
            access.record_access(request, obj, disclosed, area=obj.area_id)
        return response

    @admin.display(description="location")
    def shown_location(self, obj: Observation) -> str:
        shown = obj.shown  # type: ignore[attr-defined]
        return "withheld" if shown.lon is None else f"{shown.lat:.6f}, {shown.lon:.6f} (lat, lon)"

    @admin.display(description="uncertainty (m)")
    def uncertainty_m(self, obj: Observation) -> Any:
        return obj.shown.uncertainty_m  # type: ignore[attr-defined]

    @admin.display(description="generalisation")
    def generalisation(self, obj: Observation) -> str:
        shown = obj.shown  # type: ignore[attr-defined]
        return " ".join(t for t in (shown.data_generalizations, shown.information_withheld) if t) or "-"

    @admin.display(description="zone")
    def shown_zone(self, obj: Observation) -> Any:
        shown = obj.shown  # type: ignore[attr-defined]
        return "withheld" if shown.data_generalizations or shown.information_withheld else obj.zone

    @admin.display(description="observer")
    def shown_observer(self, obj: Observation) -> str:
        return obj.observer if obj.reads_observer else "(personal data)"  # type: ignore[attr-defined]

    @admin.display(description="illicit activity")
    def illicit_details(self, obj: Observation) -> str:
        illicit = _illicit(obj)
        if illicit is None:
            return "-"
        names = illicit.suspect_names if obj.reads_suspects else "(personal data)"  # type: ignore[attr-defined]
        actions = ", ".join(action.get_action_display() for action in illicit.actions.all()) or "-"
        items = ", ".join(_seized(item) for item in illicit.seized_items.all()) or "-"
        return (
            f"actions: {actions}; suspects: {illicit.suspects}; names: {names}; "
            f"infraction: {illicit.infraction or '-'}; seized: {items}"
        )


def _seized(item: Any) -> str:
    quantity = "" if item.quantity is None else f"{item.quantity:g}"
    return " ".join(part for part in (item.get_kind_display(), quantity, item.unit) if part)


def _illicit(obj: Observation) -> Any:
    try:
        return obj.illicit
    except Observation.illicit.RelatedObjectDoesNotExist:  # type: ignore[attr-defined]
        return None


@admin.register(QAFlag)
class QAFlagAdmin(ReadOnlyPolicyAdmin):
    # Details quote exact fixes ("-9.47 147.36 is in …"): for those who see exact points.
    access_policy = "capability:view_exact_sensitive_locations"
    area_field = "submission__form__areas"
    list_display = ["code", "detail", "instance_path", "submission", "created"]
    list_filter = ["code"]
    search_fields = ["detail", "submission__instance_id"]
    list_select_related = ["submission__form"]


class METTScoreInline(ReadOnlyInline):
    model = METTScore
    fields = ["question", "element", "second_element", "score", "comment", "next_steps"]
    readonly_fields = ["question", "element", "second_element", "score", "comment", "next_steps"]


@admin.register(METTAssessment)
class METTAssessmentAdmin(ReadOnlyPolicyAdmin):
    access_policy = "capability:view_records"
    list_display = ["area", "year", "version", "score_total", "score_max", "questions_answered", "submission"]
    list_filter = ["area", "year", "version"]
    inlines = [METTScoreInline]


class BudgetLineInline(ReadOnlyInline):
    model = BudgetLine
    fields = ["kind", "category", "planned", "actual"]
    readonly_fields = ["kind", "category", "planned", "actual"]


@admin.register(BudgetReturn)
class BudgetReturnAdmin(ReadOnlyPolicyAdmin):
    access_policy = "capability:view_records"
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
class AgencyFiscalYearAdmin(PolicyAdmin):
    """When each agency's fiscal year starts: reference data, administrators only."""

    list_display = ["agency", "start_month"]
    search_fields = ["agency"]
