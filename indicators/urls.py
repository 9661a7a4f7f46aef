from django.urls import include, path

from fieldkit.api import Router
from indicators import api

router = Router()
router.register("indicators", api.IndicatorValueViewSet, basename="indicator")

urlpatterns = [
    # Before the router: its detail route would take "cells" for an id.
    path("indicators/cells/", api.CellsView.as_view(), name="indicator-cells"),
    path("", include(router.urls)),
]
