"""The OpenRosa endpoint wrapper and request body handling.

`openrosa_endpoint` is the one place that checks the protocol headers, authenticates, sets
the headers every OpenRosa response carries, and renders every Problem as an
<OpenRosaResponse> (the message ODK Collect shows) with its status; an unexpected exception
too, never as an HTML page: 503 with Retry-After when the database is busy or unreachable,
500 otherwise.
"""

from __future__ import annotations

import functools
import logging
import tempfile
from collections.abc import Callable
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.datastructures import MultiValueDict
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from accounts.openrosa_auth import authenticate, challenge_headers
from fieldkit import db, errors
from fieldkit.errors import Problem
from odk_forms.openrosa import responses

logger = logging.getLogger(__name__)

OPENROSA_VERSION = "1.0"
CHUNK = 64 * 1024

View = Callable[..., HttpResponseBase]


def xml_response(body: bytes, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type=responses.XML_CONTENT_TYPE)


# Seconds a client is asked to wait before sending again after a 503.
RETRY_AFTER_SECONDS = 10


def problem_response(request: HttpRequest, problem: Problem) -> HttpResponse:
    response = xml_response(responses.message(f"{problem.message} [{problem.code}]", "error"), problem.status)
    if problem.status == 401:
        for name, value in challenge_headers(request).items():
            response[name] = value
    if problem.status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _unexpected(view_name: str, exc: Exception) -> Problem:
    """The Problem shown for an exception no view turned into one: a database that is busy
    or unreachable passes (503, send again); anything else is a fault of ours (500)."""
    if db.is_transient(exc):
        # Not the path: it may hold a collector's token.
        logger.warning("OpenRosa %s: database unavailable: %s", view_name, exc)
        return errors.OPENROSA_SERVER_BUSY()
    logger.error("OpenRosa %s failed", view_name, exc_info=exc)
    return errors.OPENROSA_SERVER_ERROR()


def set_openrosa_headers(response: HttpResponseBase) -> HttpResponseBase:
    response["X-OpenRosa-Version"] = OPENROSA_VERSION
    response["X-OpenRosa-Accept-Content-Length"] = str(settings.OPENROSA_MAX_SUBMISSION_BYTES)
    # WSGI servers add Date too, but the test client and some proxies do not: always set it.
    response["Date"] = http_date()
    response["Content-Language"] = settings.LANGUAGE_CODE
    return response


def openrosa_endpoint(methods: tuple[str, ...]) -> Callable[[View], View]:
    """Wrap an OpenRosa view `view(request, user, draft_token=None, **kwargs)`.

    The user comes from accounts.openrosa_auth (a `/key/<token>/` URL, Digest or Basic);
    the test URLs of a draft (`/test/<draft_token>/`) are authorised by their secret token
    alone, as in ODK Central, and get user None.
    """

    def decorator(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            try:
                response = _dispatch(view, methods, request, *args, **kwargs)
            except Problem as problem:
                response = problem_response(request, problem)
            except Exception as exc:
                # Never an HTML error page to a phone: Collect shows this body to the ranger.
                response = problem_response(request, _unexpected(view.__name__, exc))
            return set_openrosa_headers(response)

        return wrapper

    return decorator


def _dispatch(
    view: View, methods: tuple[str, ...], request: HttpRequest, *args: Any, **kwargs: Any
) -> HttpResponseBase:
    if request.method not in methods:
        response = xml_response(responses.message("Method not allowed.", "error"), 405)
        response["Allow"] = ", ".join(methods)
        return response
    # A missing header is accepted (browsers, curl); a different version is not: the
    # client expects a protocol we do not speak.
    version = request.headers.get("X-OpenRosa-Version")
    if version is not None and version.strip() != OPENROSA_VERSION:
        raise errors.OPENROSA_BAD_VERSION_HEADER(version=version)
    token = kwargs.pop("token", None)
    user = None if "draft_token" in kwargs else authenticate(request, token)
    return view(request, user, *args, **kwargs)


def empty_response(status: int = 204) -> HttpResponse:
    return HttpResponse(status=status)


def read_multipart(request: HttpRequest) -> tuple[QueryDict, MultiValueDict[str, Any]]:
    """Parse a multipart body without ever holding it in memory, within the size cap.

    Django's parser streams file parts above FILE_UPLOAD_MAX_MEMORY_SIZE to temporary files
    (DATA_UPLOAD_MAX_MEMORY_SIZE only counts the non-file fields). The declared length is
    checked before one byte is read. A chunked body has no length: Django would see it as
    empty, so it is spooled to a temporary file, counting, and parsed from there.
    """
    limit = settings.OPENROSA_MAX_SUBMISSION_BYTES
    if not (request.content_type or "").startswith("multipart/form-data"):
        raise errors.OPENROSA_NOT_MULTIPART()
    declared = request.META.get("CONTENT_LENGTH") or ""
    try:
        if declared.strip():
            try:
                length = int(declared)
            except ValueError as exc:
                raise errors.OPENROSA_BAD_MULTIPART(detail="bad Content-Length") from exc
            if length > limit:
                raise _too_large(length)
            return request.POST, request.FILES
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            body, length = _spool(request.META["wsgi.input"], limit)
            with body:
                meta = {**request.META, "CONTENT_LENGTH": str(length)}
                parser = MultiPartParser(meta, body, request.upload_handlers, request.encoding)
                return parser.parse()  # type: ignore[return-value]
        raise errors.OPENROSA_MISSING_XML()
    except (MultiPartParserError, TooManyFilesSent, RequestDataTooBig) as exc:
        raise errors.OPENROSA_BAD_MULTIPART(detail=str(exc)) from exc


def _spool(stream: IO[bytes], limit: int) -> tuple[IO[bytes], int]:
    body = tempfile.TemporaryFile(prefix="fieldkit-upload-")  # noqa: SIM115 (returned open)
    size = 0
    try:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_large(size, more=True)
            body.write(chunk)
        body.seek(0)
    except BaseException:
        body.close()
        raise
    return body, size


def _too_large(size: int, more: bool = False) -> Problem:
    mb = f"{size / 1_000_000:.0f}" + ("+" if more else "")
    return errors.OPENROSA_TOO_LARGE(size=mb, limit=f"{settings.OPENROSA_MAX_SUBMISSION_BYTES / 1_000_000:g}")
