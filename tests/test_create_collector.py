"""manage.py create_collector, and the collector services behind it."""

from __future__ import annotations

import base64
import json
import os
import tempfile
import zlib
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock

import qrcode
from django.core.management import CommandError, call_command
from django.test import RequestFactory, override_settings

from accounts import services
from accounts.models import AreaMembership, CollectorToken, Role, User
from accounts.openrosa_auth import authenticate
from fieldkit.errors import Problem
from tests.base import BaseTestCase

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def unpack(payload: str) -> dict[str, Any]:
    """Read a QR payload the way Collect does: base64, then zlib inflate, then JSON."""
    return json.loads(zlib.decompress(base64.b64decode(payload)).decode("utf-8"))


@override_settings(SITE_URL="https://fieldkit.example.org")
class CreateCollectorCommandTestCase(BaseTestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = Path(tmp.name)

    def run_command(self, *args: str, **options: Any) -> tuple[str, str, list[str]]:
        """Run create_collector; returns stdout, stderr and the texts put into QR codes."""
        stdout, stderr = StringIO(), StringIO()
        payloads: list[str] = []
        add_data = qrcode.QRCode.add_data

        def spy(code: qrcode.QRCode, data: str, *rest: Any) -> None:
            payloads.append(data)
            add_data(code, data, *rest)

        with mock.patch.object(qrcode.QRCode, "add_data", spy):
            call_command("create_collector", *args, stdout=stdout, stderr=stderr, **options)
        return stdout.getvalue(), stderr.getvalue(), payloads

    def test_it_works(self) -> None:
        qr = self.dir / "ranger.png"
        out, err, payloads = self.run_command("ranger1", "--area", str(self.area.id), "--qr", str(qr))

        user = User.objects.get(username="ranger1")
        token = CollectorToken.objects.get(user=user)
        url = f"https://fieldkit.example.org/key/{token.token}"
        self.assertIn(url, out)
        self.assertIn("Varirata National Park", out)
        self.assertIn(str(qr), out)
        self.assertEqual(err, "")
        self.assertTrue(qr.read_bytes().startswith(PNG_MAGIC))

        self.assertEqual(len(payloads), 1)
        decoded = unpack(payloads[0])
        self.assertEqual(decoded["general"]["server_url"], url)
        self.assertEqual(decoded["general"]["form_update_mode"], "match_exactly")
        self.assertNotIn("password", decoded["general"])
        self.assertEqual(decoded["admin"], {})
        self.assertEqual(decoded["project"]["name"], "Varirata National Park")

        membership = AreaMembership.objects.get(user=user)
        self.assertEqual((membership.area, membership.role), (self.area, Role.COLLECTOR))
        # No password: the token is the only way in, Digest is off.
        self.assertFalse(user.has_usable_password())
        self.assertEqual(user.digest_ha1, "")
        request = RequestFactory().get(f"/key/{token.token}/formList")
        self.assertEqual(authenticate(request, token.token), user)

    def test_several_areas(self) -> None:
        qr = self.dir / "two.png"
        _, _, payloads = self.run_command(
            "ranger2", "--area", str(self.area.id), "--area", str(self.other_area.id), "--qr", str(qr)
        )
        user = User.objects.get(username="ranger2")
        self.assertEqual(
            set(user.area_memberships.values_list("area_id", "role")),
            {(self.area.id, Role.COLLECTOR), (self.other_area.id, Role.COLLECTOR)},
        )
        self.assertEqual(unpack(payloads[0])["project"]["name"], "fieldkit (2 areas)")

    def test_it_writes_to_the_current_directory_by_default(self) -> None:
        cwd = os.getcwd()
        os.chdir(self.dir)
        self.addCleanup(os.chdir, cwd)
        self.run_command("ranger3", "--area", str(self.area.id))
        self.assertTrue((self.dir / "ranger3-collect.png").read_bytes().startswith(PNG_MAGIC))

    def test_with_password(self) -> None:
        qr = self.dir / "p.png"
        out, _, payloads = self.run_command(
            "ranger4", "--area", str(self.area.id), "--password", "kunai 7 swamp", "--qr", str(qr)
        )
        user = User.objects.get(username="ranger4")
        self.assertTrue(user.check_password("kunai 7 swamp"))
        self.assertNotEqual(user.digest_ha1, "")
        self.assertIn("server URL https://fieldkit.example.org, username ranger4", out)
        self.assertNotIn("kunai 7 swamp", out)
        # The QR code still carries the token, never the password.
        self.assertNotIn("password", unpack(payloads[0])["general"])

    def test_password_from_stdin(self) -> None:
        self.run_command(
            "ranger5",
            "--area",
            str(self.area.id),
            "--password-stdin",
            "--qr",
            str(self.dir / "s.png"),
            stdin=StringIO("mangrove 42 crab\n"),
        )
        self.assertTrue(User.objects.get(username="ranger5").check_password("mangrove 42 crab"))

    def assertNothingCreated(self, username: str, qr: Path) -> None:
        self.assertFalse(User.objects.filter(username=username).exists())
        self.assertFalse(AreaMembership.objects.filter(user__username=username).exists())
        self.assertFalse(CollectorToken.objects.filter(user__username=username).exists())
        self.assertFalse(qr.exists())

    def test_unknown_area_creates_nothing(self) -> None:
        qr = self.dir / "x.png"
        with self.assertRaisesMessage(CommandError, "No protected area with id 987654; nothing created."):
            self.run_command("ranger6", "--area", str(self.area.id), "--area", "987654", "--qr", str(qr))
        self.assertNothingCreated("ranger6", qr)

    def test_weak_password_creates_nothing(self) -> None:
        qr = self.dir / "w.png"
        with self.assertRaisesMessage(CommandError, "Password refused"):
            self.run_command("ranger7", "--area", str(self.area.id), "--password", "abc", "--qr", str(qr))
        self.assertNothingCreated("ranger7", qr)

    def test_existing_username(self) -> None:
        with self.assertRaisesMessage(CommandError, "A user named 'collector' already exists."):
            self.run_command("collector", "--area", str(self.area.id), "--qr", str(self.dir / "c.png"))
        self.assertFalse(CollectorToken.objects.exists())

    def test_unwritable_qr_path_creates_nothing(self) -> None:
        with self.assertRaisesMessage(CommandError, "no such directory"):
            self.run_command("ranger8", "--area", str(self.area.id), "--qr", str(self.dir / "no" / "q.png"))
        self.assertFalse(User.objects.filter(username="ranger8").exists())

    @override_settings(SITE_URL="http://10.0.0.5:8000")
    def test_it_warns_without_https(self) -> None:
        out, err, _ = self.run_command(
            "ranger9", "--area", str(self.area.id), "--qr", str(self.dir / "h.png")
        )
        self.assertIn("http://10.0.0.5:8000/key/", out)
        self.assertIn("not https", err)


class CollectorServicesTestCase(BaseTestCase):
    def test_collect_settings_with_password(self) -> None:
        settings = services.collect_settings(self.collector, None, "https://f.example.org/", "pw 123 abc")
        self.assertEqual(
            settings["general"],
            {
                "server_url": "https://f.example.org",
                "username": "collector",
                "password": "pw 123 abc",
                "form_update_mode": "match_exactly",
                "autosend": "wifi_and_cellular",
            },
        )
        self.assertEqual(settings["project"]["icon"], "V")
        with self.assertRaises(ValueError):
            services.collect_settings(self.collector, None, "https://f.example.org")

    def test_encoding_round_trips(self) -> None:
        settings = {"general": {"server_url": "https://x/key/abc"}, "admin": {}, "project": {"name": "Ömä"}}
        payload = services.encode_settings(settings)
        self.assertEqual(unpack(payload), settings)
        self.assertEqual(services.decode_settings(payload), settings)
        # Standard base64 text, which the QR code carries in its byte mode.
        self.assertRegex(payload, r"^[A-Za-z0-9+/]+=*$")

    def test_create_collector_needs_an_area(self) -> None:
        with self.assertRaises(Problem) as caught:
            services.create_collector("nobody", [])
        self.assertEqual(caught.exception.code, "400.30")

    def test_revoke_token(self) -> None:
        _, token = services.create_collector("ranger", [self.area.id])
        self.assertTrue(services.revoke_token(token))
        first = token.revoked_at
        self.assertFalse(services.revoke_token(token))
        token.refresh_from_db()
        self.assertEqual(token.revoked_at, first)
        with self.assertRaises(Problem) as caught:
            authenticate(RequestFactory().get("/formList"), token.token)
        self.assertEqual(caught.exception.status, 403)
