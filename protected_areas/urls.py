from django.urls import include, path
from rest_framework.routers import DefaultRouter

from protected_areas import api

router = DefaultRouter()
router.register("areas", api.ProtectedAreaViewSet, basename="area")
router.register("zones", api.ZoneViewSet, basename="zone")

urlpatterns = [path("", include(router.urls))]
