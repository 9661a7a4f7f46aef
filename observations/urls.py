from django.urls import include, path

from fieldkit.api import Router
from observations import api

router = Router()
router.register("observations", api.ObservationViewSet, basename="observation")

urlpatterns = [path("", include(router.urls))]
