from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

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
