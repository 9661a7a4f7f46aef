from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin, LeafletGeoAdminMixin

from protected_areas.models import ProtectedArea, Zone


class ZoneInline(LeafletGeoAdminMixin, admin.StackedInline):
    model = Zone
    extra = 0
    fields = ["code", "name", "kind", "boundary", "area_km2"]
    readonly_fields = ["area_km2"]


@admin.register(ProtectedArea)
class ProtectedAreaAdmin(LeafletGeoAdmin):
    # Boundaries are public reference data; only administrators change them
    # (accounts.access: "superuser", held by Django's model permissions here).
    access_policy = "superuser"
    list_display = ["name", "wdpa_id", "designation", "iucn_category", "iso3", "area_km2", "timezone"]
    list_filter = ["iso3", "iucn_category", "status", "designation_type", "marine", "source"]
    search_fields = ["name", "orig_name", "source_id", "wdpa_pid"]
    readonly_fields = ["area_km2", "source_hash", "created", "updated"]
    inlines = [ZoneInline]
    fieldsets = [
        (None, {"fields": ["name", "orig_name", "boundary", "timezone", "area_km2"]}),
        (
            "WDPA",
            {
                "fields": [
                    ("source", "source_id"),
                    ("wdpa_id", "wdpa_pid", "parent"),
                    ("designation", "designation_eng", "designation_type"),
                    ("iucn_category", "status", "status_year"),
                    ("governance", "ownership"),
                    ("management_authority", "management_plan"),
                    ("iso3", "parent_iso3", "marine"),
                    ("reported_area_km2", "reported_marine_area_km2"),
                ]
            },
        ),
        ("Source", {"classes": ["collapse"], "fields": ["attributes", "source_hash", "created", "updated"]}),
    ]


@admin.register(Zone)
class ZoneAdmin(LeafletGeoAdmin):
    access_policy = "superuser"
    list_display = ["name", "area", "kind", "code", "area_km2"]
    list_filter = ["kind", "area"]
    search_fields = ["name", "code", "area__name"]
    readonly_fields = ["area_km2"]
