from django.urls import include, path
from rest_framework.routers import DefaultRouter

from odk_forms import api

router = DefaultRouter()
router.register("forms", api.FormViewSet, basename="form")

urlpatterns = [path("", include(router.urls))]
