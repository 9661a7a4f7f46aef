"""The OpenRosa endpoint wrapper and request body handling.

`openrosa_endpoint` is the one place that checks the protocol headers, authenticates, sets
the headers every OpenRosa response carries, and renders every Problem as an
<OpenRosaResponse> (the message ODK Collect shows) with its status; an unexpected exception
too, never as an HTML page: 503 with Retry-After when the database is busy or unreachable,
500 otherwise.
"""

from __future__ import annotations

import functools
import io
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.http import http_date, parse_header_parameters
from django.views.decorators.csrf import csrf_exempt

from accounts.openrosa_auth import authenticate, challenge_headers
from fieldkit import db, errors
from fieldkit.errors import Problem
from odk_forms.openrosa import responses

logger = logging.getLogger(__name__)

OPENROSA_VERSION = "1.0"
CHUNK = 64 * 1024
# A part's headers (Content-Disposition, Content-Type) are a few hundred bytes.
MAX_PART_HEADERS = 16 * 1024

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


@dataclass
class Part:
    """One part of a multipart body, as it arrived: nothing renamed, nothing decoded."""

    # The Content-Disposition name and filename, decoded as UTF-8 (Latin-1 if that fails);
    # "" and None when the client left them out.
    name: str
    filename: str | None
    content_type: str
    # The part's bytes exactly as sent, at offset 0.
    file: IO[bytes]
    size: int


@dataclass
class Body:
    """What a POST carried: every part of a multipart body, in order, or (`raw`) the whole
    body of a request that is not multipart. Close it to free the temporary files."""

    multipart: bool
    parts: list[Part] = field(default_factory=list)
    raw: Part | None = None

    def close(self) -> None:
        for part in [*self.parts, *([self.raw] if self.raw else [])]:
            part.file.close()

    def __enter__(self) -> Body:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_body(request: HttpRequest) -> Body:
    """Read a submission body without ever holding it in memory, within the size cap.

    Every part is kept, in order, whatever its name: Django's parser is not used because it
    drops parts (a file named "..", a part without a name, a header it cannot decode) and
    decodes plain fields to text, which changes their bytes. The declared length is checked
    before one byte is read. A chunked body has no declared length: it is counted while read.
    """
    limit = settings.OPENROSA_MAX_SUBMISSION_BYTES
    read = _body_reader(request, limit)
    content_type = request.content_type or ""
    try:
        if not content_type.startswith("multipart/form-data"):
            raw = _read_raw(read)
            if not raw.size:
                raw.file.close()
                return Body(multipart=False)
            return Body(multipart=False, raw=raw)
        boundary = (request.content_params or {}).get("boundary", "")
        if not boundary or len(boundary) > 200 or not boundary.isascii():
            raise errors.OPENROSA_BAD_MULTIPART(detail="no usable boundary in the Content-Type")
        return Body(multipart=True, parts=_read_parts(read, boundary.encode("ascii")))
    except OSError as exc:
        # The client went away in the middle of the upload.
        raise errors.OPENROSA_BAD_MULTIPART(detail=f"the upload stopped: {exc}") from exc


def _body_reader(request: HttpRequest, limit: int) -> Callable[[int], bytes]:
    """The function that reads the body, a chunk at a time."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.strip():
        try:
            length = int(declared)
        except ValueError as exc:
            raise errors.OPENROSA_BAD_MULTIPART(detail="bad Content-Length") from exc
        if length > limit:
            raise _too_large(length)
        return request.read  # reads at most Content-Length bytes
    if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        wsgi_input = request.META["wsgi.input"]
        # Django's development server hands a chunked body over as a stream of 0 bytes (it
        # limits the input to the Content-Length, absent here) without undoing the chunks:
        # the body cannot be read there at all. gunicorn undoes them.
        if isinstance(wsgi_input, LimitedStream) and wsgi_input.limit == 0:
            raise errors.OPENROSA_LENGTH_REQUIRED()
        return _capped(wsgi_input.read, limit)
    return io.BytesIO().read


def _capped(read: Callable[[int], bytes], limit: int) -> Callable[[int], bytes]:
    """`read` for a body of unknown length, refused with 413 as soon as it passes the cap."""
    count = 0

    def capped_read(size: int) -> bytes:
        nonlocal count
        data = read(size)
        count += len(data)
        if count > limit:
            raise _too_large(count, more=True)
        return data

    return capped_read


class _PartWriter:
    """Temporary files for the parts: small ones in memory until a total budget is spent,
    the rest on disk, so that neither a big part nor many small ones fill the memory."""

    def __init__(self) -> None:
        self.in_memory = 0

    def new(self) -> IO[bytes]:
        if self.in_memory < settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return tempfile.SpooledTemporaryFile(
                max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, prefix="fieldkit-part-"
            )
        return tempfile.TemporaryFile(prefix="fieldkit-part-")

    def done(self, file: IO[bytes], size: int) -> None:
        file.seek(0)
        # A spooled file moves to disk once it holds more than its max_size.
        if isinstance(file, tempfile.SpooledTemporaryFile) and size <= settings.FILE_UPLOAD_MAX_MEMORY_SIZE:
            self.in_memory += size


def _read_raw(read: Callable[[int], bytes]) -> Part:
    writer = _PartWriter()
    file, size = writer.new(), 0
    try:
        while chunk := read(CHUNK):
            file.write(chunk)
            size += len(chunk)
    except BaseException:
        file.close()
        raise
    writer.done(file, size)
    return Part(name="", filename=None, content_type="", file=file, size=size)


def _read_parts(read: Callable[[int], bytes], boundary: bytes) -> list[Part]:
    """Split a multipart/form-data body (RFC 7578) into its parts, streaming each to a
    temporary file. The preamble and epilogue are ignored; a body without its closing
    delimiter was cut off."""
    # With a CRLF put in front, every delimiter, the first included, is CRLF "--" boundary.
    delimiter = b"\r\n--" + boundary
    keep = len(delimiter) - 1
    buffer = bytearray(b"\r\n")
    writer = _PartWriter()
    parts: list[Part] = []
    eof = False

    def fill() -> bool:
        nonlocal eof
        chunk = b"" if eof else read(CHUNK)
        eof = not chunk
        buffer.extend(chunk)
        return bool(chunk)

    def cut_off() -> Problem:
        return errors.OPENROSA_BAD_MULTIPART(detail="the body ends before its closing boundary")

    try:
        while (start := buffer.find(delimiter)) < 0:
            del buffer[: max(0, len(buffer) - keep)]
            if not fill():
                if not parts and not buffer.strip():
                    return parts  # an empty body: no parts at all
                raise cut_off()
        del buffer[: start + len(delimiter)]
        while True:
            while len(buffer) < 2 and fill():
                pass
            if buffer[:2] == b"--":
                return parts
            if len(parts) >= settings.DATA_UPLOAD_MAX_NUMBER_FILES:
                raise errors.OPENROSA_BAD_MULTIPART(
                    detail=f"more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} parts"
                )
            while (end := buffer.find(b"\r\n\r\n")) < 0:
                if len(buffer) > MAX_PART_HEADERS:
                    raise errors.OPENROSA_BAD_MULTIPART(detail="a part's headers are too long")
                if not fill():
                    raise cut_off()
            headers = _part_headers(bytes(buffer[:end]))
            del buffer[: end + 4]
            file, size = writer.new(), 0
            parts.append(Part(*headers, file=file, size=0))
            while (start := buffer.find(delimiter)) < 0:
                if len(buffer) > keep:
                    file.write(buffer[:-keep])
                    size += len(buffer) - keep
                    del buffer[:-keep]
                if not fill():
                    raise cut_off()
            file.write(buffer[:start])
            size += start
            del buffer[: start + len(delimiter)]
            parts[-1].size = size
            writer.done(file, size)
    except BaseException:
        for part in parts:
            part.file.close()
        raise


def _part_headers(block: bytes) -> tuple[str, str | None, str]:
    """name, filename and content type of a part, from its header block. The block starts
    with the rest of the delimiter line (transport padding), which is skipped."""
    lines: list[str] = []
    for raw in block.split(b"\r\n")[1:]:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            # Old clients send file names in their own 8-bit charset: keep every byte.
            line = raw.decode("latin-1")
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += " " + line.strip()  # a folded header line
        else:
            lines.append(line)
    headers: dict[str, str] = {}
    for line in lines:
        key, colon, value = line.partition(":")
        if colon:
            headers[key.strip().lower()] = value.strip()
    try:
        _, params = parse_header_parameters(headers.get("content-disposition", ""))
    except ValueError:
        params = {}  # an unknown RFC 2231 charset: the part is kept, without a name
    content_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    return params.get("name", ""), params.get("filename"), content_type


def _too_large(size: int, more: bool = False) -> Problem:
    mb = f"{size / 1_000_000:.0f}" + ("+" if more else "")
    return errors.OPENROSA_TOO_LARGE(size=mb, limit=f"{settings.OPENROSA_MAX_SUBMISSION_BYTES / 1_000_000:g}")
