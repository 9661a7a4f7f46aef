from django.urls import include, path

from fieldkit.api import Router
from protected_areas import api

router = Router()
router.register("areas", api.ProtectedAreaViewSet, basename="area")
router.register("zones", api.ZoneViewSet, basename="zone")

urlpatterns = [path("", include(router.urls))]
