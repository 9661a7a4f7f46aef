"""Admin of accounts: memberships (managers add and end those of their own areas), the
audit trail (read-only, for managers of the area), users and collector tokens
(administrators). See accounts.admin_policy for how pages follow the access policy."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from accounts import access, services
from accounts.access import Capability
from accounts.admin_policy import PolicyAdmin
from accounts.models import AccessEvent, AreaMembership, CollectorToken, User
from fieldkit.errors import Problem
from protected_areas.models import ProtectedArea

# The admin site's own pages (index, login, password change): staff only; every model page
# declares its own policy below and in the other apps' admin modules.
admin.site.access_policy = "admin"  # type: ignore[attr-defined]

# Roles are memberships (accounts.access), not Django groups and permissions.
admin.site.unregister(Group)

# django-axes's sign-in lockout records (registered before this module: INSTALLED_APPS order)
# are for administrators, through Django's model permissions that only they hold.
for _model, _model_admin in admin.site._registry.items():
    if _model._meta.app_label == "axes":
        _model_admin.access_policy = "superuser"  # type: ignore[attr-defined]


class MembershipForm(forms.ModelForm):
    class Meta:
        model = AreaMembership
        fields = ["user", "area", "national", "role"]

    def __init__(self, *args: Any, by: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by = by

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        area, national = data.get("area"), data.get("national", False)
        if (area is None) == (not national):
            raise forms.ValidationError("Choose a protected area, or tick national (administrators only).")
        try:
            services.check_may_manage(self.by, area, data.get("role", ""))
        except Problem as problem:
            raise forms.ValidationError(problem.message) from None
        return data


@admin.register(AreaMembership)
class AreaMembershipAdmin(PolicyAdmin):
    """Managers add and remove the members of their own areas. A membership is not edited:
    end it and add another, so that the collector-token rule runs."""

    access_policy = "capability:manage_members"
    list_display = ["user", "area", "national", "role", "created"]
    list_filter = ["role", "national", "area"]
    search_fields = ["user__username", "area__name"]
    form = MembershipForm

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        base = super().get_form(request, obj, change, **kwargs)
        by = request.user

        class Bound(base):  # type: ignore[valid-type,misc]
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, by=by, **kw)
                if "area" in self.fields:
                    managed = access.visible(by, Capability.MANAGE_MEMBERS, ProtectedArea.objects.all(), "id")
                    self.fields["area"].queryset = managed  # type: ignore[attr-defined]
                if "national" in self.fields and not access.is_superuser(by):
                    self.fields["national"].disabled = True

        return Bound

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._holds(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._holds(request)

    def save_model(self, request: HttpRequest, obj: AreaMembership, form: Any, change: bool) -> None:
        created = services.add_membership(request.user, obj.user, obj.role, obj.area)
        obj.pk, obj.created = created.pk, created.created

    def delete_model(self, request: HttpRequest, obj: AreaMembership) -> None:
        revoked = services.end_membership(request.user, obj)
        if revoked:
            self.message_user(request, f"{len(revoked)} collector token(s) of {obj.user} revoked.")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AreaMembership]) -> None:
        for membership in queryset:
            self.delete_model(request, membership)


@admin.register(AccessEvent)
class AccessEventAdmin(PolicyAdmin):
    """Who saw exact sensitive locations or personal data: read-only, for the managers of
    the area (administrators see every area's)."""

    access_policy = "capability:view_access_events"
    list_display = ["at", "username", "action", "object_type", "object_id", "fields", "area", "ip"]
    list_filter = ["action", "object_type", "area"]
    search_fields = ["username", "object_id", "ip"]
    date_hierarchy = "at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in AccessEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    access_policy = "superuser"


@admin.register(CollectorToken)
class CollectorTokenAdmin(admin.ModelAdmin):
    access_policy = "superuser"
    list_display = ["user", "label", "short_token", "created", "last_used", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "label"]
    readonly_fields = ["token", "web_forms_page", "created", "last_used", "revoked_at"]
    raw_id_fields = ["user"]
    actions = ["revoke"]

    @admin.display(description="web forms")
    def web_forms_page(self, obj: CollectorToken) -> str:
        # The token URL opened in a browser lists the collector's web forms, with links that
        # need no password (when fieldkit runs with Enketo).
        if not obj.pk or not obj.is_active:
            return "–"
        url = f"{settings.SITE_URL}/key/{obj.token}/"
        return format_html('<a href="{0}" target="_blank" rel="noreferrer">{0}</a>', url)

    @admin.display(description="token")
    def short_token(self, obj: CollectorToken) -> str:
        # Enough to tell tokens apart in a list without putting whole secrets on screen.
        return obj.token[:6] + "…"

    @admin.action(description="Revoke the selected tokens (their phones stop working)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[CollectorToken]) -> None:
        count = sum(services.revoke_token(token) for token in queryset)
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)
