"""gzip for JSON answers: the API's and the maps' data.

A dashboard's weight is mostly its data (an area's GeoJSON layers, its indicators), and
JSON shrinks five- to tenfold: a ranger or a donor on a slow link waits for every byte.
Django's GZipMiddleware does the work, and hides the compressed length from BREACH-style
guessing by padding the gzip header (Django 4.2 and later). Only JSON is compressed:
pages carry CSRF tokens and need no help, static files have their gzip and Brotli copies
(WhiteNoise), and exports are archives or long streams of their own formats.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware

JSON_TYPES = frozenset({"application/json", "application/geo+json", "application/vnd.oai.openapi+json"})


class CompressJSON(GZipMiddleware):
    """GZipMiddleware for whole (not streamed) JSON answers only."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        media_type = response.get("Content-Type", "").split(";")[0].strip().lower()
        if response.streaming or media_type not in JSON_TYPES:
            return response
        return super().process_response(request, response)
