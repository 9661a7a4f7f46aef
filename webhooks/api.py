"""REST API of webhooks: each user manages its own subscriptions, reads their delivery log
and sends a delivery again. Another user's subscription or delivery is a 404 (404.88)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import access
from fieldkit import errors
from fieldkit.events import KINDS
from webhooks import actions
from webhooks.models import Attempt, Delivery, Subscription


class SubscriptionSerializer(serializers.ModelSerializer):
    # Checked by webhooks.actions (400.89), not by DRF's URL field: one catalogued answer.
    url = serializers.CharField(max_length=500)
    areas = serializers.ListField(child=serializers.IntegerField(), source="area_ids")
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=KINDS))

    class Meta:
        model = Subscription
        fields = ["id", "url", "areas", "kinds", "active", "secret", "created_at"]
        read_only_fields = ["id", "secret", "created_at"]


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attempt
        fields = ["number", "at", "status_code", "duration_ms", "error", "response_excerpt"]


class DeliverySerializer(serializers.ModelSerializer):
    log = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "event_id", "kind", "action", "ref", "area", "state", "attempts", "created_at",
                  "delivered_at", "log"]  # fmt: skip


def _owned(user: Any) -> Any:
    subscriptions = Subscription.objects.prefetch_related("areas")
    return subscriptions if access.is_superuser(user) else subscriptions.filter(owner_id=user.pk)


class SubscriptionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """/api/v1/webhooks/: the user's subscriptions. POST {url, areas, kinds, active} makes
    one (its secret comes back once made, and on every read by its owner); PATCH changes
    it; DELETE removes it with its log. /api/v1/webhooks/<id>/deliveries/: the latest
    deliveries with each attempt."""

    access_policy = "authenticated"
    serializer_class = SubscriptionSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> Any:
        return _owned(self.request.user)

    def get_object(self) -> Subscription:
        found = (
            self.get_queryset().filter(pk=self.kwargs["pk"]).first()
            if str(self.kwargs["pk"]).isdigit()
            else None
        )
        if found is None:
            raise errors.WEBHOOK_NOT_FOUND()
        return found  # type: ignore[no-any-return]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = SubscriptionSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        made = actions.create_subscription(
            request.user,
            url=data["url"],
            areas=data["area_ids"],
            kinds=data["kinds"],
            active=data.get("active", True),
        )
        return Response(SubscriptionSerializer(made).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        subscription = self.get_object()
        params = SubscriptionSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        changes = dict(params.validated_data)
        if "area_ids" in changes:
            changes["areas"] = changes.pop("area_ids")
        changed = actions.update_subscription(request.user, subscription, **changes)
        return Response(SubscriptionSerializer(changed).data)

    @extend_schema(responses=DeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        subscription = self.get_object()
        rows = subscription.deliveries.prefetch_related("log")[:100]
        return Response(DeliverySerializer(rows, many=True).data)


class DeliveryViewSet(viewsets.GenericViewSet):
    """POST /api/v1/webhook-deliveries/<id>/send-again/: the same event, in a new round of
    attempts (409.88 while it is still being sent)."""

    access_policy = "authenticated"
    serializer_class = DeliverySerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> Any:
        deliveries = Delivery.objects.select_related("subscription")
        if access.is_superuser(self.request.user):
            return deliveries
        return deliveries.filter(subscription__owner_id=self.request.user.pk)

    @extend_schema(request=None, responses=DeliverySerializer)
    @action(detail=True, methods=["post"], url_path="send-again")
    def send_again(self, request: Request, pk: str | None = None) -> Response:
        found = self.get_queryset().filter(pk=pk).first() if str(pk).isdigit() else None
        if found is None:
            raise errors.WEBHOOK_NOT_FOUND()
        sent = actions.send_again(found)
        return Response(DeliverySerializer(sent).data, status=status.HTTP_202_ACCEPTED)
