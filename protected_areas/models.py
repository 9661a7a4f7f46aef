"""Protected areas (WDPA attributes) and their zones."""

from __future__ import annotations

from typing import cast

from django.contrib.gis.db import models
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.core.exceptions import ValidationError

from protected_areas import geometry


class IUCNCategory(models.TextChoices):
    IA = "Ia", "Ia Strict nature reserve"
    IB = "Ib", "Ib Wilderness area"
    II = "II", "II National park"
    III = "III", "III Natural monument or feature"
    IV = "IV", "IV Habitat/species management area"
    V = "V", "V Protected landscape/seascape"
    VI = "VI", "VI Protected area with sustainable use"
    NOT_REPORTED = "Not Reported", "Not reported"
    NOT_APPLICABLE = "Not Applicable", "Not applicable"
    NOT_ASSIGNED = "Not Assigned", "Not assigned"


class Marine(models.IntegerChoices):
    TERRESTRIAL = 0, "Terrestrial"
    COASTAL = 1, "Coastal (marine and terrestrial)"
    MARINE = 2, "Marine"


class ProtectedArea(models.Model):
    # Where the record came from. (source, source_id) is the upsert key of imports:
    # "wdpa" + WDPA_PID/SITE_PID for WDPA files, otherwise a dataset name + the id field.
    source = models.CharField(max_length=64, default="wdpa")
    source_id = models.CharField(max_length=64)
    source_hash = models.CharField(max_length=64, blank=True, editable=False)

    wdpa_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    wdpa_pid = models.CharField(max_length=64, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    name = models.CharField(max_length=254)
    orig_name = models.CharField("original name", max_length=254, blank=True)
    designation = models.CharField(max_length=254, blank=True)
    designation_eng = models.CharField("designation (English)", max_length=254, blank=True)
    designation_type = models.CharField(max_length=32, blank=True)
    iucn_category = models.CharField("IUCN category", max_length=16, choices=IUCNCategory.choices, blank=True)
    status = models.CharField(max_length=32, blank=True)
    status_year = models.PositiveSmallIntegerField(null=True, blank=True)
    governance = models.CharField(max_length=128, blank=True)
    ownership = models.CharField(max_length=128, blank=True)
    management_authority = models.CharField(max_length=254, blank=True)
    management_plan = models.CharField(max_length=254, blank=True)
    iso3 = models.CharField("ISO3", max_length=32, blank=True)
    parent_iso3 = models.CharField("parent ISO3", max_length=32, blank=True)
    reported_area_km2 = models.FloatField("reported area (km²)", null=True, blank=True)
    reported_marine_area_km2 = models.FloatField(null=True, blank=True)
    marine = models.PositiveSmallIntegerField(choices=Marine.choices, default=Marine.TERRESTRIAL)
    # Every attribute of the source feature, verbatim, for what the columns above don't hold.
    attributes = models.JSONField(default=dict, blank=True)

    boundary = models.MultiPolygonField(srid=4326)
    # Kept with the boundary so that lists and maps never simplify on the request path.
    boundary_simplified = models.MultiPolygonField(srid=4326, null=True, blank=True, editable=False)
    area_km2 = models.FloatField("computed area (km²)", editable=False, default=0)
    timezone = models.CharField(
        "IANA timezone", max_length=64, blank=True, help_text="Guessed from the boundary if blank."
    )

    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="area_unique_source_id"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.set_derived_fields()
        super().save(*args, **kwargs)

    def set_derived_fields(self) -> None:
        """Area, simplified outline and timezone follow the boundary, however it was set
        (import, admin map, API)."""
        self.boundary = as_multipolygon(self.boundary)
        shape = geometry.to_shapely(self.boundary)
        self.area_km2 = geometry.area_km2(shape)
        self.boundary_simplified = geometry.to_geos_multipolygon(geometry.simplify_for_display(shape))
        if not self.timezone:
            self.timezone = geometry.timezone_at(shape)


class ZoneKind(models.TextChoices):
    CORE = "core", "Core zone"
    BUFFER = "buffer", "Buffer zone"
    PATROL_SECTOR = "patrol_sector", "Patrol sector"
    COMMUNITY_USE = "community_use", "Community use zone"
    TOURISM = "tourism", "Tourism zone"
    RESTORATION = "restoration", "Restoration zone"
    OTHER = "other", "Other"


class Zone(models.Model):
    area = models.ForeignKey(ProtectedArea, on_delete=models.CASCADE, related_name="zones")
    code = models.SlugField(max_length=64)
    name = models.CharField(max_length=254)
    kind = models.CharField(max_length=32, choices=ZoneKind.choices, default=ZoneKind.OTHER)
    boundary = models.MultiPolygonField(srid=4326)
    area_km2 = models.FloatField("computed area (km²)", editable=False, default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["area", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "code"], name="zone_unique_code_per_area"),
        ]

    def __str__(self) -> str:
        return f"{self.area.name}: {self.name}"

    def clean(self) -> None:
        if self.boundary is None or self.area_id is None:
            return
        outside = geometry.fraction_outside(
            geometry.to_shapely(self.boundary), geometry.to_shapely(self.area.boundary)
        )
        if outside > geometry.ZONE_OUTSIDE_TOLERANCE:
            raise ValidationError({"boundary": f"{outside:.1%} of the zone lies outside {self.area.name}."})

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.boundary = as_multipolygon(self.boundary)
        self.area_km2 = geometry.area_km2(geometry.to_shapely(self.boundary))
        super().save(*args, **kwargs)


def as_multipolygon(geom: GEOSGeometry) -> MultiPolygon:
    """Forms and APIs may hand over a Polygon; the fields hold MultiPolygons."""
    if geom.geom_type == "Polygon":
        return MultiPolygon(geom, srid=geom.srid or 4326)
    return cast(MultiPolygon, geom)
