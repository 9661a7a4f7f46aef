"""The home page, the health probe, and signing in and out of the pages."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from accounts import access
from protected_areas import queries


@access.policy("public")
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and docker-compose: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@access.policy("public")
def home(request: HttpRequest) -> HttpResponse:
    areas = queries.areas_visible_to(request.user).only("id", "name", "designation_eng", "area_km2")
    return render(request, "portal/home.html", {"areas": areas})


class LoginView(auth_views.LoginView):
    """Sign-in for the pages (the case pages); the admin keeps its own."""

    access_policy = "public"


class LogoutView(auth_views.LogoutView):
    access_policy = "public"
    next_page = "/"
