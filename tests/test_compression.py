"""fieldkit.compression: JSON answers are gzip-compressed for clients that accept it, and
nothing else is."""

from __future__ import annotations

import gzip
import json

from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory

from fieldkit.compression import CompressJSON
from tests.base import BaseTestCase


class CompressJSONTest(BaseTestCase):
    def setUp(self) -> None:
        self.client.force_login(self.owner)

    def test_an_api_answer_is_compressed_for_a_client_that_accepts_gzip(self) -> None:
        plain = self.client.get("/api/v1/areas/")
        packed = self.client.get("/api/v1/areas/", HTTP_ACCEPT_ENCODING="gzip, deflate")
        self.assertEqual(packed.status_code, 200)
        self.assertEqual(packed["Content-Encoding"], "gzip")
        self.assertIn("Accept-Encoding", packed["Vary"])
        self.assertEqual(json.loads(gzip.decompress(packed.content)), plain.json())
        self.assertLess(len(packed.content), len(plain.content))
        self.assertFalse(plain.has_header("Content-Encoding"))

    def test_a_map_layer_is_compressed(self) -> None:
        packed = self.client.get("/maps/data/areas.geojson?year=2024", HTTP_ACCEPT_ENCODING="gzip")
        self.assertEqual(packed.status_code, 200)
        self.assertEqual(packed["Content-Encoding"], "gzip")
        self.assertEqual(json.loads(gzip.decompress(packed.content))["type"], "FeatureCollection")

    def test_a_page_is_left_as_it_is(self) -> None:
        page = self.client.get("/maps/", HTTP_ACCEPT_ENCODING="gzip")
        self.assertEqual(page.status_code, 200)
        self.assertFalse(page.has_header("Content-Encoding"))
        self.assertIn(b"<html", page.content)

    def test_streams_and_other_types_are_left_as_they_are(self) -> None:
        request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING="gzip")
        body = json.dumps({"rows": list(range(1000))})

        def answer(response: HttpResponse | StreamingHttpResponse) -> HttpResponse | StreamingHttpResponse:
            return CompressJSON(lambda r: response)(request)  # type: ignore[return-value]

        self.assertEqual(
            answer(HttpResponse(body, content_type="application/json"))["Content-Encoding"], "gzip"
        )
        streamed = answer(StreamingHttpResponse(iter([body]), content_type="application/json"))
        self.assertFalse(streamed.has_header("Content-Encoding"))
        self.assertFalse(answer(HttpResponse(body, content_type="text/csv")).has_header("Content-Encoding"))
