from django.urls import include, path

from fieldkit.api import Router
from webhooks import api

router = Router()
router.register("webhooks", api.SubscriptionViewSet, basename="webhook")
router.register("webhook-deliveries", api.DeliveryViewSet, basename="webhook-delivery")

urlpatterns = [path("", include(router.urls))]
