from django.urls import include, path

from fieldkit.api import Router
from odk_forms import api

router = Router()
router.register("forms", api.FormViewSet, basename="form")

urlpatterns = [path("", include(router.urls))]
