"""Read API for observations, as GeoJSON, and their photos.

Everything a user receives goes through the access policy: the records of its areas only
(observations.queries.observations_visible_to; another area's record is a 404), the point
of a sensitive record generalised unless the user may see it exactly
(observations.sensitivity.located), personal fields only for those they are open to
(accounts.access.PERSONAL_FIELDS; the others get counts), EXIF GPS tags stripped from a
photo of a generalised record, and an AccessEvent for every exact sensitive point or
personal field that leaves the server.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_gis.pagination import GeoJsonPagination

from accounts import access
from accounts.generalisation import Sensitivity, strip_gps
from accounts.models import AccessAction
from observations import queries, sensitivity
from observations.models import Observation
from odk_forms.models import Attachment

SUSPECT_NAMES = "observations.illicitactivity.suspect_names"
OBSERVER = "observations.observation.observer"


class Pagination(GeoJsonPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


def feature(obs: Observation, view: sensitivity.UserView) -> tuple[dict[str, Any], list[str]]:
    """The GeoJSON Feature of `obs` for `view`, and the names of what it discloses that the
    audit records (an exact sensitive point, personal fields)."""
    shown = sensitivity.located(obs, view)
    disclosed = ["location"] if sensitivity.exact_sensitive(shown) else []
    generalised = bool(shown.data_generalizations or shown.information_withheld)
    properties: dict[str, Any] = {
        "time": obs.time.isoformat() if obs.time else None,
        "category": obs.category_id,
        "vertical": obs.vertical,
        "area": obs.area_id,
        # A zone can be smaller than the grid cell: withheld with the point.
        "zone": None if generalised else obs.zone_id,
        "count": obs.count,
        "coordinateUncertaintyInMeters": shown.uncertainty_m,
        "sensitivity": shown.level,
        "dataGeneralizations": shown.data_generalizations,
        "informationWithheld": shown.information_withheld,
        "photos": list(obs.photos),
    }
    if view.reads(OBSERVER, obs.area_id):
        properties["observer"] = obs.observer
        if obs.observer:
            disclosed.append("observer")
    species = _related(obs, "species")
    if species is not None:
        properties["taxon"] = species.taxon.scientific_name if species.taxon else species.taxon_name
        properties["individualCount"] = species.individual_count
    illicit = _related(obs, "illicit")
    if illicit is not None:
        properties["illicit"] = {
            "actions": [action.action for action in illicit.actions.all()],
            "suspects": illicit.suspects,
            "infraction": illicit.infraction,
            "threat": illicit.threat,
            "seized_items": [
                {"kind": item.kind, "quantity": item.quantity, "unit": item.unit, "destroyed": item.destroyed}
                for item in illicit.seized_items.all()
            ],
        }
        if view.reads(SUSPECT_NAMES, obs.area_id):
            properties["illicit"]["suspect_names"] = illicit.suspect_names
            if illicit.suspect_names:
                disclosed.append("suspect_names")
    geometry = {"type": "Point", "coordinates": [shown.lon, shown.lat]} if shown.lon is not None else None
    return {"type": "Feature", "id": obs.pk, "geometry": geometry, "properties": properties}, disclosed


def _related(observation: Observation, name: str) -> Any:
    try:
        return getattr(observation, name)
    except ObjectDoesNotExist:
        return None


class ObservationViewSet(viewsets.GenericViewSet):
    """GET /api/v1/observations/ (a FeatureCollection), /api/v1/observations/<id>/ (a
    Feature) and /api/v1/observations/<id>/photos/<name> (the photo)."""

    access_policy = "capability:view_records"
    permission_classes = [IsAuthenticated]
    pagination_class = Pagination
    filterset_fields = ["area", "vertical", "category"]

    def get_queryset(self) -> Any:
        observations = queries.observations_visible_to(self.request.user)
        return sensitivity.with_levels(
            observations.select_related("species__taxon", "illicit")
            .prefetch_related("illicit__actions", "illicit__seized_items")
            .order_by("time", "pk")
        )

    def _features(self, observations: list[Observation]) -> list[dict[str, Any]]:
        view = sensitivity.UserView.of(self.request.user)
        features, seen = [], []
        for obs in observations:
            data, disclosed = feature(obs, view)
            features.append(data)
            seen.append((obs, disclosed, obs.area_id))
        access.record_accesses(self.request, seen)
        return features

    @extend_schema(operation_id="observations_list", responses=OpenApiTypes.OBJECT)
    def list(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        features = self._features(rows)
        if page is not None:
            return self.get_paginated_response({"type": "FeatureCollection", "features": features})
        return Response({"type": "FeatureCollection", "features": features})

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(self._features([self.get_object()])[0])

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def photo(self, request: Request, pk: str | None = None, name: str = "") -> HttpResponse:
        """A photo of the observation, its GPS tags stripped unless the user may see the
        exact point of this record. The stored file is never changed."""
        obs = self.get_object()
        if name not in obs.photos:
            raise Http404
        attachment = Attachment.objects.filter(submission_id=obs.submission_id, name=name).first()
        if attachment is None:
            raise Http404
        with attachment.file.open("rb") as handle:
            data = handle.read()
        if sensitivity.effective_level(obs) != Sensitivity.OPEN:
            if sensitivity.UserView.of(request.user).sees_exact(obs.area_id):
                access.record_access(
                    request, obs, ["photo_gps"], area=obs.area_id, action=AccessAction.DOWNLOAD
                )
            else:
                data = strip_gps(data)
        return HttpResponse(data, content_type=attachment.content_type or "application/octet-stream")
