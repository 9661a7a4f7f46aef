"""Errors no view turned into a Problem still reach the phone as an OpenRosa response: a
busy or unreachable database as 503 with Retry-After (send again), anything else as 500;
never an HTML page, which ODK Collect would show to the ranger as gibberish."""

from __future__ import annotations

import sqlite3
from unittest import mock

from defusedxml.ElementTree import fromstring
from django.db import OperationalError

from tests.base import BaseTestCase
from tests.xml_builders import RESPONSE_NS, make_form, make_instance, openrosa_headers, post_submission


def locked() -> OperationalError:
    """Django's error for SQLite's SQLITE_BUSY, as raised by its database wrapper."""
    error = OperationalError("database is locked")
    error.__cause__ = sqlite3.OperationalError("database is locked")
    return error


class OpenRosaErrorTest(BaseTestCase):
    def setUp(self) -> None:
        make_form([self.area])

    def message_of(self, response) -> str:  # type: ignore[no-untyped-def]
        self.assertEqual(response["Content-Type"], "text/xml; charset=utf-8")
        self.assertEqual(response["X-OpenRosa-Version"], "1.0")
        root = fromstring(response.content)
        self.assertEqual(root.tag, f"{RESPONSE_NS}OpenRosaResponse")
        return root.find(f"{RESPONSE_NS}message").text  # type: ignore[no-any-return]

    def test_a_busy_database_is_a_503_to_send_again(self) -> None:
        with mock.patch("odk_forms.receiving.receive_submission", side_effect=locked()):
            response = post_submission(self.client, make_instance())
        self.assertEqual(response.status_code, 503, response.content)
        self.assertEqual(response["Retry-After"], "10")
        self.assertIn("[503.10]", self.message_of(response))

    def test_an_unreachable_database_is_a_503_on_every_endpoint(self) -> None:
        lost = OperationalError("server closed the connection unexpectedly")
        with mock.patch("odk_forms.queries.listed_forms", side_effect=lost):
            response = self.client.get("/formList", **openrosa_headers("collector"))  # type: ignore[arg-type]
        self.assertEqual(response.status_code, 503, response.content)
        self.assertIn("[503.10]", self.message_of(response))

    def test_an_unexpected_error_is_a_500_in_openrosa_xml(self) -> None:
        with (
            mock.patch("odk_forms.receiving.receive_submission", side_effect=KeyError("surprise")),
            self.assertLogs("odk_forms.openrosa.protocol", "ERROR"),
        ):
            response = post_submission(self.client, make_instance())
        self.assertEqual(response.status_code, 500, response.content)
        self.assertFalse(response.has_header("Retry-After"))
        message = self.message_of(response)
        self.assertIn("[500.10]", message)
        self.assertNotIn("surprise", message)

    def test_other_database_errors_are_500(self) -> None:
        broken = OperationalError("no such table: odk_forms_submission")
        broken.__cause__ = sqlite3.OperationalError("no such table: odk_forms_submission")
        with (
            mock.patch("odk_forms.receiving.receive_submission", side_effect=broken),
            self.assertLogs("odk_forms.openrosa.protocol", "ERROR"),
        ):
            response = post_submission(self.client, make_instance())
        self.assertEqual(response.status_code, 500, response.content)


class BusyWhileRecordingTest(BaseTestCase):
    """The database turns busy after the files are written: the phone is told to send again
    and the bytes it sent stay on disk."""

    def setUp(self) -> None:
        make_form([self.area])

    def test_the_files_stay_and_the_phone_sends_again(self) -> None:
        from django.conf import settings

        from tests.xml_builders import photo_bytes

        with (
            mock.patch("odk_forms.receiving._record_submission", side_effect=locked()),
            self.assertLogs("odk_forms.receiving", "WARNING"),
        ):
            response = post_submission(
                self.client, make_instance(photo="p.jpg"), files={"p.jpg": photo_bytes()}
            )
        self.assertEqual(response.status_code, 503, response.content)
        self.assertEqual(response["Retry-After"], "10")
        received = settings.MEDIA_ROOT / "submissions"
        kept = sorted(p.name for p in received.rglob("*") if p.is_file())
        self.assertEqual(len(kept), 2, kept)
        self.assertIn("p.jpg", kept)
