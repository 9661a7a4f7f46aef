"""The home page, the health probe, and signing in and out of the pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from accounts import access
from accounts.access import Capability
from protected_areas import queries


@access.policy("public")
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and docker-compose: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@access.policy("public")
def home(request: HttpRequest) -> HttpResponse:
    """The areas, and for a signed-in user the pages its roles open (`nav`, from
    maps.pages.site_navigation):
    an area's name leads to its dashboard where the user reads its figures or records.
    Visitors not signed in go to the published overview map, or sign in when nothing is
    published (settings.FIELDKIT_PUBLISH_INDICATORS)."""
    if not request.user.is_authenticated:
        # Visitors see what the agency publishes (maps.pages.overview), else sign in.
        if settings.FIELDKIT_PUBLISH_INDICATORS:
            return redirect("maps:overview")
        return redirect_to_login(request.get_full_path())
    areas = queries.areas_visible_to(request.user).only("id", "name", "designation_eng", "area_km2")
    readable = [
        access.area_ids_with(request.user, cap)
        for cap in (Capability.VIEW_INDICATORS, Capability.VIEW_RECORDS)
    ]
    everywhere = any(ids is None for ids in readable)
    mine = {pk for ids in readable if ids is not None for pk in ids}
    dashboards = {a.pk for a in areas} if everywhere else mine
    return render(
        request,
        "portal/home.html",
        {
            "areas": areas,
            "dashboards": dashboards if request.user.is_authenticated else set(),
        },
    )


class LoginView(auth_views.LoginView):
    """Sign-in for the pages (the case pages); the admin keeps its own."""

    access_policy = "public"


class LogoutView(auth_views.LogoutView):
    access_policy = "public"
    next_page = "/"
