from django.contrib import admin

from accounts.models import AreaMembership


@admin.register(AreaMembership)
class AreaMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "area", "role", "created"]
    list_filter = ["role", "area"]
    search_fields = ["user__username", "area__name"]
    autocomplete_fields = ["area"]
