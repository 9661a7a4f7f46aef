"""What every REST endpoint shares: a catalogued Problem becomes its JSON answer here, once,
whichever view raised it."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.routers import APIRootView, DefaultRouter
from rest_framework.views import exception_handler as drf_exception_handler

from fieldkit.errors import Problem


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """settings.REST_FRAMEWORK["EXCEPTION_HANDLER"]: a Problem is answered with its status,
    code and message ({"code": "409.3", "detail": "..."}); anything else as DRF does."""
    if isinstance(exc, Problem):
        return Response({"code": exc.code, "detail": exc.message}, status=exc.status)
    return drf_exception_handler(exc, context)


class PublicAPIRootView(APIRootView):
    """The list of endpoints under /api/v1/: names only, the same for everyone."""

    access_policy = "public"


class Router(DefaultRouter):
    """The DefaultRouter of every app, with a root view whose access policy is declared
    (accounts.access: every view declares one)."""

    APIRootView = PublicAPIRootView
