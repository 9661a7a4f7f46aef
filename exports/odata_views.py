"""The OData feed's endpoints: thin views over exports.odata.

Excel and Power BI sign in with HTTP Basic; a browser already signed in to fieldkit uses its
session; a collector link's token works too (`Authorization: Bearer <token>` or `?st=`).
Basic is refused over plain http (401.81) except from this computer while https is off
(SECURE_SSL_REDIRECT false, the client on loopback): in production the https settings
already send every plain-http request to https. Without credentials the answer is a 401
with `WWW-Authenticate: Basic`, which makes Excel and Power BI ask for a password.
"""

from __future__ import annotations

import ipaddress
import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from accounts import access, openrosa_auth
from accounts.access import Capability
from exports import odata
from fieldkit import errors
from fieldkit.errors import Problem

JSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false"


def _loopback(request: HttpRequest) -> bool:
    try:
        return ipaddress.ip_address(access.client_ip(request) or "").is_loopback
    except ValueError:
        return False


def _sign_in(request: HttpRequest) -> None:
    """Set request.user from the session, a collector token or HTTP Basic, or raise."""
    if request.user.is_authenticated:
        return
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
    token = request.GET.get("st")
    if scheme.lower() == "bearer":
        token = credentials.strip()
    if token is not None:
        request.user = openrosa_auth.authenticate(request, token)
        return
    if scheme.lower() != "basic":
        raise errors.ODATA_AUTH_REQUIRED()
    if not (request.is_secure() or (not settings.SECURE_SSL_REDIRECT and _loopback(request))):
        raise errors.ODATA_BASIC_NEEDS_HTTPS()
    request.user = openrosa_auth.authenticate_basic(request, credentials)


def _problem(exc: Problem) -> HttpResponse:
    response = JsonResponse({"error": {"code": exc.code, "message": exc.message}}, status=exc.status)
    response["OData-Version"] = "4.0"
    if exc.status == 401:
        response["WWW-Authenticate"] = f'Basic realm="{settings.OPENROSA_REALM}", charset="UTF-8"'
    return response


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("exports:odata-service"))


def _json(body: dict[str, object]) -> HttpResponse:
    response = HttpResponse(json.dumps(body), content_type=JSON)
    response["OData-Version"] = "4.0"
    return response


def _check(request: HttpRequest) -> None:
    _sign_in(request)
    if access.area_ids_with(request.user, Capability.EXPORT) == frozenset():
        raise errors.EXPORT_FORBIDDEN()


@require_GET
@access.policy("capability:export")
def service(request: HttpRequest) -> HttpResponse:
    """GET /api/v1/odata/: the service document (the entity sets the user may read)."""
    try:
        _check(request)
    except Problem as exc:
        return _problem(exc)
    return _json(odata.service_document(_base(request), request.user))


@require_GET
@access.policy("capability:export")
def metadata(request: HttpRequest) -> HttpResponse:
    """GET /api/v1/odata/$metadata: the CSDL XML of the service."""
    try:
        _check(request)
    except Problem as exc:
        return _problem(exc)
    response = HttpResponse(odata.metadata_xml(request.user), content_type="application/xml")
    response["OData-Version"] = "4.0"
    return response


@require_GET
@access.policy("capability:export")
def entity_set(request: HttpRequest, name: str) -> HttpResponse:
    """GET /api/v1/odata/<entity set>?$top=&$skip=&$count=&$filter=&$select=: one page of
    rows (Prefer: odata.maxpagesize=N for smaller pages), with @odata.nextLink if more."""
    try:
        _check(request)
        found = odata.source(request, name)
        if found is None:
            return _problem(Problem("404", 404, f"No entity set {name!r} here."))
        body, applied = odata.page(request, _base(request), found)
    except Problem as exc:
        return _problem(exc)
    response = _json(body)
    if applied:
        size, _ = odata.max_page_size(request.headers.get("Prefer", ""))
        response["Preference-Applied"] = f"odata.maxpagesize={size}"
    return response
