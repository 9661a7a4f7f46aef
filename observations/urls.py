from django.urls import include, path

from fieldkit.api import Router
from observations import api

router = Router()
router.register("observations", api.ObservationViewSet, basename="observation")

urlpatterns = [
    # A file name, not a REST resource: no trailing slash, no format suffix.
    path(
        "observations/<int:pk>/photos/<str:name>",
        api.ObservationViewSet.as_view({"get": "photo"}),
        name="observation-photo",
    ),
    path("", include(router.urls)),
]
