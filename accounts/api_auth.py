"""Authentication of the REST API: Basic only over https.

Basic sends the password itself: over plain http anyone on the path reads it. The OpenRosa
endpoints refuse it there (accounts.openrosa_auth), and so does the API. Wrong passwords
are counted by django-axes, whose backend comes first in AUTHENTICATION_BACKENDS.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.models import User
from fieldkit import errors


class HttpsBasicAuthentication(BasicAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        scheme = get_authorization_header(request).split(b" ", 1)[0]
        if scheme.lower() == b"basic" and not request.is_secure():
            problem = errors.API_BASIC_NEEDS_HTTPS()
            raise exceptions.AuthenticationFailed(problem.message, code=problem.code)
        return super().authenticate(request)

    def authenticate_credentials(self, userid: str, password: str, request: Any = None) -> tuple[Any, None]:
        if len(userid) > _MAX_USERNAME_LENGTH:
            # No such user can exist, and django-axes' table would refuse to store the name.
            raise exceptions.AuthenticationFailed("Invalid username/password.")
        return super().authenticate_credentials(userid, password, request)


_MAX_USERNAME_LENGTH = User._meta.get_field("username").max_length or 150


class HttpsBasicScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """The OpenAPI description of HttpsBasicAuthentication: HTTP Basic (over https)."""

    target_class = "accounts.api_auth.HttpsBasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "basic", "description": "HTTP Basic, over https only."}
