"""REST API for memberships: managers list, add and end the roles of their own areas
(accounts.services decides who may grant what; accounts.access filters what is listed).
A membership of an area the user does not manage is a 404."""

from __future__ import annotations

from typing import Any

from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import access, services
from accounts.access import Capability
from accounts.models import AreaMembership, Role, User
from fieldkit import errors
from protected_areas.models import ProtectedArea


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    area = serializers.IntegerField(source="area_id", required=False, allow_null=True)
    role = serializers.ChoiceField(choices=Role.choices)
    national = serializers.BooleanField(required=False, default=False)

    class Meta:
        model = AreaMembership
        fields = ["id", "username", "area", "national", "role", "created"]
        read_only_fields = ["id", "created"]


class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Memberships of the areas the user manages. POST {username, role, area} adds one
    (national: true and no area, for administrators); DELETE ends one and, when the user
    can then send data nowhere, revokes its collector tokens."""

    access_policy = "capability:manage_members"
    serializer_class = MembershipSerializer
    permission_classes = [IsAuthenticated]
    filterset_fields = ["area", "role"]

    def get_queryset(self) -> Any:
        memberships = AreaMembership.objects.select_related("user").order_by("area_id", "user__username")
        return access.visible(self.request.user, Capability.MANAGE_MEMBERS, memberships)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = MembershipSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        area_id, national = data.get("area_id"), data.get("national", False)
        if (area_id is None) == (not national):
            raise errors.MEMBERSHIP_NO_AREA()
        user = User.objects.filter(username=data["user"]["username"]).first()
        if user is None:
            raise errors.MEMBERSHIP_UNKNOWN_USER(username=data["user"]["username"])
        area = None
        if area_id is not None:
            area = ProtectedArea.objects.filter(pk=area_id).first()
            if area is None:
                raise errors.MEMBERSHIP_UNKNOWN_AREA(id=area_id)
        membership = services.add_membership(request.user, user, data["role"], area)
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.end_membership(request.user, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
