from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import AreaMembership, User


@admin.register(AreaMembership)
class AreaMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "area", "role", "created"]
    list_filter = ["role", "area"]
    search_fields = ["user__username", "area__name"]
    autocomplete_fields = ["area"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    pass
