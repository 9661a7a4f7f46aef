"""The admin under the access policy.

Entering the admin needs the staff flag (Django's own gate); what each page lists and
opens is decided by accounts.access, not by Django's model permissions: a ModelAdmin says
`access_policy = "capability:<cap>"` and `area_field` (the lookup to the record's area),
and shows only the rows of the areas where the user holds that capability. A record of
another area answers 404, as everywhere else. `access_policy = "superuser"` keeps a page
for administrators (reference data, users, tokens).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from accounts import access
from accounts.access import Capability


class PolicyAdmin(admin.ModelAdmin):
    """A read-only admin page whose rows are those `access.visible` gives."""

    access_policy = "superuser"
    area_field = "area"

    @property
    def capability(self) -> Capability | None:
        kind, _, cap = self.access_policy.partition(":")
        return Capability(cap) if kind == "capability" else None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        cap = self.capability
        if cap is None:
            return queryset if access.is_superuser(request.user) else queryset.none()
        return access.visible(request.user, cap, queryset, self.area_field)

    def _holds(self, request: HttpRequest) -> bool:
        cap = self.capability
        if cap is None:
            return access.is_superuser(request.user)
        return access.user_may_enter_admin(request.user) and access.can(request.user, cap)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._holds(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._holds(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.is_superuser(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.is_superuser(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.is_superuser(request.user) and super().has_delete_permission(request, obj)

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str) -> Any:
        # Django redirects to the index with "does not exist": a record of another area is a
        # plain 404 here as in the API, so that ids reveal nothing.
        raise Http404


class ReadOnlyPolicyAdmin(PolicyAdmin):
    """Records nobody edits here, superusers included: they are made from submissions."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
