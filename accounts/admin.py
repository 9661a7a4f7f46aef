from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import services
from accounts.models import AreaMembership, CollectorToken, User


@admin.register(AreaMembership)
class AreaMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "area", "role", "created"]
    list_filter = ["role", "area"]
    search_fields = ["user__username", "area__name"]
    autocomplete_fields = ["area"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    pass


@admin.register(CollectorToken)
class CollectorTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "label", "short_token", "created", "last_used", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "label"]
    readonly_fields = ["token", "created", "last_used", "revoked_at"]
    raw_id_fields = ["user"]
    actions = ["revoke"]

    @admin.display(description="token")
    def short_token(self, obj: CollectorToken) -> str:
        # Enough to tell tokens apart in a list without putting whole secrets on screen.
        return obj.token[:6] + "…"

    @admin.action(description="Revoke the selected tokens (their phones stop working)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[CollectorToken]) -> None:
        count = sum(services.revoke_token(token) for token in queryset)
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)
