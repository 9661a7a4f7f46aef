from __future__ import annotations

import io

from django.core.management import CommandError, call_command

from odk_forms.models import Form, FormVersion, MediaFile
from tests.base import BaseTestCase


class InstallStandardFormsTestCase(BaseTestCase):
    def run_command(self, *args: str) -> str:
        out = io.StringIO()
        call_command("install_standard_forms", "--no-validate", *args, stdout=out)
        return out.getvalue()

    def test_it_publishes_the_six_forms_once(self) -> None:
        out = self.run_command("--area", str(self.area.id))
        self.assertEqual(out.count(": published"), 6)
        self.assertEqual(Form.objects.count(), 6)
        patrol = Form.objects.get(xml_form_id="fieldkit_patrol")
        self.assertEqual(list(patrol.areas.all()), [self.area])
        areas_csv = MediaFile.objects.filter(name="areas.csv").first()
        self.assertIsNotNone(areas_csv)
        # The form's areas only: a form of one area offers no other to choose.
        text = areas_csv.file.read().decode()
        self.assertIn("Varirata National Park", text)
        self.assertNotIn("Tonda Wildlife Management Area", text)

        out = self.run_command()
        self.assertEqual(out.count(": current"), 6)
        self.assertEqual(FormVersion.objects.count(), 6)
        self.assertEqual(set(patrol.areas.all()), {self.area, self.other_area})

    def test_unknown_areas_are_refused(self) -> None:
        with self.assertRaisesMessage(CommandError, "No protected area with id 999999"):
            self.run_command("--area", "999999")
        self.assertFalse(Form.objects.exists())

    def test_repeated_area_options_add_up(self) -> None:
        self.run_command("--area", str(self.area.id), "--area", str(self.other_area.id))
        for form in Form.objects.all():
            self.assertEqual(set(form.areas.all()), {self.area, self.other_area}, form.xml_form_id)
        text = MediaFile.objects.filter(name="areas.csv").first().file.read().decode()
        self.assertIn("Varirata National Park", text)
        self.assertIn("Tonda Wildlife Management Area", text)
