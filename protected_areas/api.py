"""Read API for protected areas and zones, as GeoJSON.

Lists carry the simplified outline kept with each area; the detail carries the full
boundary. `?bbox=w,s,e,n` keeps what intersects the box.
"""

from __future__ import annotations

import django_filters
from rest_framework import viewsets
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.filters import InBBoxFilter
from rest_framework_gis.pagination import GeoJsonPagination
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from protected_areas import queries
from protected_areas.models import ProtectedArea, Zone

AREA_FIELDS = [
    "id",
    "source",
    "source_id",
    "wdpa_id",
    "wdpa_pid",
    "parent",
    "name",
    "orig_name",
    "designation",
    "designation_eng",
    "designation_type",
    "iucn_category",
    "status",
    "status_year",
    "governance",
    "ownership",
    "management_authority",
    "iso3",
    "parent_iso3",
    "reported_area_km2",
    "marine",
    "area_km2",
    "timezone",
    "updated",
]


class BBoxFilter(InBBoxFilter):
    bbox_param = "bbox"


class Pagination(GeoJsonPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class AreaListSerializer(GeoFeatureModelSerializer):
    boundary_simplified = GeometryField(precision=5)

    class Meta:
        model = ProtectedArea
        geo_field = "boundary_simplified"
        fields = AREA_FIELDS


class AreaDetailSerializer(GeoFeatureModelSerializer):
    boundary = GeometryField(precision=6)

    class Meta:
        model = ProtectedArea
        geo_field = "boundary"
        fields = [*AREA_FIELDS, "attributes", "created"]


class AreaFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = ProtectedArea
        fields = ["iso3", "iucn_category", "status", "designation_type", "marine", "wdpa_id"]


class ProtectedAreaViewSet(viewsets.ReadOnlyModelViewSet):
    # Boundaries are public reference data (WDPA publishes them): accounts.access "public".
    access_policy = "public"
    bbox_filter_field = "boundary"
    bbox_filter_include_overlapping = True
    filter_backends = [BBoxFilter, django_filters.rest_framework.DjangoFilterBackend]
    filterset_class = AreaFilter
    pagination_class = Pagination

    def get_queryset(self):  # type: ignore[no-untyped-def]
        queryset = queries.areas_visible_to(self.request.user)
        if self.action == "list":
            # The full boundary can be megabytes per area; lists never load it.
            queryset = queryset.defer("boundary", "attributes")
        return queryset

    def get_serializer_class(self):  # type: ignore[no-untyped-def]
        return AreaListSerializer if self.action == "list" else AreaDetailSerializer


class ZoneSerializer(GeoFeatureModelSerializer):
    boundary = GeometryField(precision=6)

    class Meta:
        model = Zone
        geo_field = "boundary"
        fields = ["id", "area", "code", "name", "kind", "area_km2", "updated"]


class ZoneViewSet(viewsets.ReadOnlyModelViewSet):
    access_policy = "public"
    serializer_class = ZoneSerializer
    bbox_filter_field = "boundary"
    bbox_filter_include_overlapping = True
    filter_backends = [BBoxFilter, django_filters.rest_framework.DjangoFilterBackend]
    filterset_fields = ["area", "kind"]
    pagination_class = Pagination

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return queries.zones_visible_to(self.request.user).select_related("area")
