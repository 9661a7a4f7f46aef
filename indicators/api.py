"""Read API for stored indicators: /api/v1/indicators/ (the long table, filtered) and
/api/v1/indicators/cells/ (one indicator and period on the grid, as GeoJSON).

Everything goes through the access policy: the values of the areas where the user holds
VIEW_INDICATORS (accounts.access.visible); another area's values are simply not there.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import django_filters
from django.contrib.gis.db.models.functions import Transform
from django.db.models import F, QuerySet, Window
from django.db.models.functions import Lag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import access
from indicators import evidence, formulas
from indicators.compute import INDICATORS
from indicators.models import NO_CELL, NO_ZONE, GridCell, IndicatorRow, PeriodKind

PREVIOUS_MONTHS = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}


def previous_start(kind: str, start: date) -> date:
    """The first day of the period before the one starting on `start`."""
    months = start.year * 12 + start.month - 1 - PREVIOUS_MONTHS[PeriodKind(kind)]
    return date(months // 12, months % 12 + 1, 1)


def visible_values(user: Any) -> QuerySet[IndicatorRow]:
    """Stored values and the rates derived from them (IndicatorRow) of the user's areas."""
    return access.visible(user, access.Capability.VIEW_INDICATORS, IndicatorRow.objects.all())


class IndicatorFilter(django_filters.FilterSet):
    zone = django_filters.NumberFilter(field_name="zone_id", help_text="zone id; 0: the area as a whole")
    cell = django_filters.NumberFilter(field_name="cell_id", help_text="grid cell id (default 0: no cell)")
    start = django_filters.DateFilter(field_name="period_start", lookup_expr="gte", help_text="periods from")
    end = django_filters.DateFilter(field_name="period_start", lookup_expr="lte", help_text="periods to")
    indicator = django_filters.CharFilter(
        help_text="indicator code, e.g. cpue.records.km. Codes: "
        + "; ".join(f"{code}: {meaning}" for code, meaning in INDICATORS.items())
    )
    indicator_prefix = django_filters.CharFilter(field_name="indicator", lookup_expr="startswith")
    subject = django_filters.CharFilter(help_text="e.g. category:human_activity.weapons.snare")

    class Meta:
        model = IndicatorRow
        fields = ["area", "period_kind"]


class IndicatorValueSerializer(serializers.ModelSerializer):
    zone = serializers.SerializerMethodField()
    cell = serializers.SerializerMethodField()
    change = serializers.SerializerMethodField(help_text="value − the previous period's value")
    previous = serializers.SerializerMethodField(
        help_text="the previous period's value (the month, quarter or year just before), if any"
    )
    change_percent = serializers.SerializerMethodField(
        help_text="100 × change ÷ |previous value|; null when either is missing or the previous is 0"
    )
    rationale = serializers.SerializerMethodField(
        help_text="mett.suggested only: the evidence and the rule in words (never the assessors' score)"
    )

    class Meta:
        model = IndicatorRow
        fields = [
            "id",
            "area",
            "zone",
            "cell",
            "period_kind",
            "period_start",
            "indicator",
            "subject",
            "value",
            "numerator",
            "denominator",
            "lower",
            "upper",
            "effort",
            "change",
            "previous",
            "change_percent",
            "rationale",
        ]

    def get_zone(self, obj: IndicatorRow) -> int | None:
        return None if obj.zone_id == NO_ZONE else obj.zone_id

    def get_cell(self, obj: IndicatorRow) -> int | None:
        return None if obj.cell_id == NO_CELL else obj.cell_id

    def get_previous(self, obj: IndicatorRow) -> float | None:
        """The value of the period just before, read by the window (LAG) of get_queryset;
        None if that row is not among those the filters keep or is another period."""
        before, before_start = getattr(obj, "previous_value", None), getattr(obj, "previous_start", None)
        if before is None or before_start is None:
            return None
        if before_start != previous_start(obj.period_kind, obj.period_start):
            return None
        return float(before)

    def get_change(self, obj: IndicatorRow) -> float | None:
        """Change from the period just before, when both have a value (formulas.period_change)."""
        before = self.get_previous(obj)
        if before is None or obj.value is None:
            return None
        return float(obj.value - before)

    def get_change_percent(self, obj: IndicatorRow) -> float | None:
        """formulas.period_change's percent: growth from nothing has no percentage."""
        change = formulas.period_change(self.get_previous(obj), obj.value)
        return None if change is None else change.percent

    def get_rationale(self, obj: IndicatorRow) -> str | None:
        if obj.indicator != "mett.suggested":
            return None
        return evidence.rationale(
            obj.subject, obj.value, obj.numerator, obj.denominator, obj.upper, obj.effort
        )


class Pagination(PageNumberPagination):
    page_size = 500
    page_size_query_param = "page_size"
    max_page_size = 5000


class IndicatorValueViewSet(viewsets.ReadOnlyModelViewSet):
    """GET /api/v1/indicators/: stored indicator values of the user's areas, filtered by
    area, zone, cell, period kind (M, Q, Y) and range (start, end), indicator and subject.
    Each value carries its numerator, denominator, interval and effort, and its trend: the
    previous period's value, the change from it and that change in % (read at request time
    with a window LAG over each series, within the rows the filters keep: ask from one
    period earlier to have the first one's change). Grid cells: add `cell`. Suggested METT
    scores (mett.suggested) carry a `rationale` in words."""

    access_policy = "capability:view_indicators"
    permission_classes = [IsAuthenticated]
    serializer_class = IndicatorValueSerializer
    filterset_class = IndicatorFilter
    pagination_class = Pagination

    def get_queryset(self) -> QuerySet[IndicatorRow]:
        values = visible_values(self.request.user)
        if "cell" not in self.request.query_params:
            values = values.filter(cell_id=NO_CELL)
        series = ["area_id", "zone_id", "cell_id", "period_kind", "indicator", "subject"]
        return values.annotate(
            previous_value=Window(Lag("value"), partition_by=[F(f) for f in series], order_by="period_start"),
            previous_start=Window(
                Lag("period_start"), partition_by=[F(f) for f in series], order_by="period_start"
            ),
        ).order_by("area_id", "indicator", "subject", "zone_id", "period_kind", "period_start", "id")


class CellsView(APIView):
    """GET /api/v1/indicators/cells/?area=&indicator=&period_kind=&period_start=[&subject=]:
    a GeoJSON FeatureCollection of the area's grid cells (EPSG:4326 outlines of the
    equal-area squares) with the indicator's value in each cell that has one (a rate such as
    cpue.records.km also its interval and the km walked in the cell; a cell without effort
    has none: no data)."""

    access_policy = "capability:view_indicators"
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="indicator_cells",
        parameters=[
            OpenApiParameter("area", OpenApiTypes.INT, required=True),
            OpenApiParameter("indicator", OpenApiTypes.STR, required=True, description="e.g. cell.records"),
            OpenApiParameter("period_kind", OpenApiTypes.STR, required=True, enum=["M", "Q", "Y"]),
            OpenApiParameter("period_start", OpenApiTypes.DATE, required=True),
            OpenApiParameter("subject", OpenApiTypes.STR, description="e.g. vertical:illicit"),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        try:
            area_id = int(params["area"])
            kind = PeriodKind(params["period_kind"])
            start = date.fromisoformat(params["period_start"])
            indicator = params["indicator"]
        except (KeyError, ValueError) as exc:
            raise ValidationError(
                "area, indicator, period_kind (M, Q, Y) and period_start are required"
            ) from exc
        if not access.can(request.user, access.Capability.VIEW_INDICATORS, area_id):
            raise NotFound
        values = visible_values(request.user).filter(
            area_id=area_id,
            period_kind=kind,
            period_start=start,
            indicator=indicator,
            subject=params.get("subject", ""),
        )
        by_cell = {
            v["cell_id"]: v
            for v in values.exclude(cell_id=NO_CELL).values(
                "cell_id", "value", "numerator", "denominator", "lower", "upper", "effort"
            )
        }
        cells = (
            GridCell.objects.filter(area_id=area_id).annotate(outline=Transform("geom", 4326)).order_by("pk")
        )
        features = []
        for cell in cells:
            found = by_cell.get(cell.pk)
            features.append(
                {
                    "type": "Feature",
                    "id": cell.pk,
                    "geometry": {"type": "Polygon", "coordinates": _rounded(cell.outline.coords)},
                    "properties": {
                        "ix": cell.ix,
                        "iy": cell.iy,
                        "size_m": cell.size_m,
                        "value": found["value"] if found else None,
                        "numerator": found["numerator"] if found else None,
                        "lower": found["lower"] if found else None,
                        "upper": found["upper"] if found else None,
                        "effort": found["effort"] if found else None,
                    },
                }
            )
        return Response({"type": "FeatureCollection", "features": features})


def _rounded(rings: Any) -> list[list[list[float]]]:
    return [[[round(x, 6), round(y, 6)] for x, y in ring] for ring in rings]
