"""/cases/<uuid>/case-file.zip: unpacked, checked with `sha256sum -c` and the ledger check
script it carries, its PDF rendered to PNG (pdftoppm) and its text read (pdftotext).
Personal data only for law enforcement, and its export audited; 404 for another area."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from django.test import TestCase

from accounts.models import AccessEvent
from enforcement import actions, ledger
from observations.models import Observation
from tests import access_scene as scene
from tests import observation_builders as ob

# Set to a path to keep the rendered first page for a look.
PNG_COPY = os.environ.get("FIELDKIT_CASE_FILE_PNG")


class CaseFileTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)

    def setUp(self) -> None:
        # A submission of this test's own, so that its files are in this test's MEDIA_ROOT.
        snare = ob.observation_values(
            loc=ob.geopoint(147.3702, -9.4391),
            when="2024-06-02T10:00:00+10:00",
            category="human_activity",
            action="arrested",
            suspects="2",
            photo="snare.jpg",
        )
        xml = ob.instance_xml("fk_patrol", ob.patrol_values(), {"obs": [snare]})
        submission = ob.submit(
            xml, self.collector, {"snare.jpg": io.BytesIO(scene.jpeg_with_gps(147.3702, -9.4391))}
        )
        self.record = Observation.objects.get(submission=submission)
        self.case = actions.open_case(
            self.law, area_id=self.area.pk, title="Snare line", records=[self.record.record_uuid]
        )
        actions.change_status(self.manager, self.case, "verified")
        actions.change_status(self.law, self.case, "under_investigation", "snares found")
        self.exhibit = actions.add_exhibit(
            self.law,
            self.case,
            description="Wire snares, 12",
            holder="Ranger post",
            content=b"\x89PNG fake",
            extension="png",
        )
        actions.transfer_custody(
            self.law, self.exhibit, to_holder="Police store", reason="for court", received_by="Sgt. Kila"
        )
        actions.add_person(self.law, self.case, name="Peter Kaupa", aliases="PK")
        self.url = f"/cases/{self.case.uuid}/case-file.zip"

    def download(self, user, tmp: Path) -> Path:  # type: ignore[no-untyped-def]
        self.client.force_login(user)
        response = self.client.get(self.url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/zip")
        data = b"".join(response.streaming_content)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(tmp)
        return tmp

    def test_the_case_file_verifies_with_common_tools(self):
        import tempfile

        with tempfile.TemporaryDirectory() as name:
            folder = self.download(self.law, Path(name))
            names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
            self.assertIn("summary.pdf", names)
            self.assertIn("ledger.jsonl", names)
            self.assertIn("HOW-TO-VERIFY.txt", names)
            self.assertIn(f"exhibits/{self.exhibit.uuid}.png", names)
            self.assertTrue(any(n.startswith("submissions/") and n.endswith(".xml") for n in names))
            self.assertTrue(any(n.endswith("-snare.jpg") for n in names))

            check = subprocess.run(
                ["sha256sum", "-c", "MANIFEST.sha256"], cwd=folder, capture_output=True, text=True
            )
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
            self.assertEqual(check.stdout.count(": OK"), len(names) - 1)

            script = folder / "check_ledger.py"
            script.write_text(ledger.LEDGER_CHECK_SCRIPT)
            run = subprocess.run(
                [sys.executable, str(script), "ledger.jsonl"], cwd=folder, capture_output=True, text=True
            )
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertIn("ledger intact", run.stdout)
            # The submission's receipt, the exhibit's file: their hashes are in the excerpt.
            text = (folder / "ledger.jsonl").read_text()
            self.assertIn(self.record.submission.xml_sha256, text)
            self.assertIn(self.exhibit.sha256, text)

            pdf_text = subprocess.run(
                ["pdftotext", "-layout", "summary.pdf", "-"],
                cwd=folder,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for expected in (
                "Case file: Snare line",
                "Wire snares, 12",
                "Police store",
                "Sgt. Kila",
                "Peter Kaupa",
                "Under investigation",
            ):
                self.assertIn(expected, pdf_text)
            subprocess.run(
                ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "summary.pdf", "page"],
                cwd=folder,
                check=True,
            )
            png = next(folder.glob("page*.png"))
            self.assertGreater(png.stat().st_size, 5000)
            if PNG_COPY:
                Path(PNG_COPY).write_bytes(png.read_bytes())
        self.assertEqual(AccessEvent.objects.get(user=self.law, action="export").fields, ["aliases", "name"])

    def test_a_manager_gets_no_personal_data(self):
        import tempfile

        with tempfile.TemporaryDirectory() as name:
            folder = self.download(self.manager, Path(name))
            pdf_text = subprocess.run(
                ["pdftotext", "summary.pdf", "-"], cwd=folder, capture_output=True, text=True, check=True
            ).stdout
            self.assertNotIn("Peter Kaupa", pdf_text)
            self.assertIn("law enforcement only", pdf_text)

    def test_another_areas_law_enforcement_gets_404(self):
        for user in (self.outside_law, self.viewer):
            self.client.force_login(user)
            self.assertEqual(self.client.get(self.url).status_code, 404)
