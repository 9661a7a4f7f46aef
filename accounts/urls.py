from django.urls import include, path

from accounts import api
from fieldkit.api import Router

router = Router()
router.register("memberships", api.MembershipViewSet, basename="membership")

urlpatterns = [path("", include(router.urls))]
