"""A form whose fieldkit mapping is wrong is refused when it is published, with the reason,
through every way of publishing."""

from __future__ import annotations

import io

from django.core.management import CommandError, call_command

from fieldkit.errors import Problem
from odk_forms import publishing
from odk_forms.models import Form
from tests.base import BaseTestCase

XFORM = """<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
 xmlns:jr="http://openrosa.org/javarosa" xmlns:fieldkit="https://fieldkit.example.org/xforms">
 <h:head><h:title>Agency patrol</h:title>
  <model>
   <instance><data id="agency_patrol" version="3"><team/><meta><instanceID/></meta></data></instance>
   <bind nodeset="/data/team" type="string" fieldkit:map="{target}"/>
   <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
  </model>
 </h:head>
 <h:body><input ref="/data/team"><label>Team</label></input></h:body>
</h:html>
"""


class PublishMappingCheckTestCase(BaseTestCase):
    def publish(self, target: str):  # type: ignore[no-untyped-def]
        return publishing.publish_form_version(
            "agency_patrol.xml", XFORM.format(target=target).encode(), area_ids=[self.area.id], validate=False
        )

    def test_a_known_target_publishes(self) -> None:
        version = self.publish("patrol.team")
        self.assertEqual(version.form.xml_form_id, "agency_patrol")

    def test_an_unknown_target_is_refused_with_the_reason(self) -> None:
        with self.assertRaises(Problem) as caught:
            self.publish("patrol.teem")
        self.assertEqual(caught.exception.code, "400.60")
        self.assertIn("patrol.teem", caught.exception.message)
        self.assertIn("patrol.team", caught.exception.message)  # the suggestion
        self.assertFalse(Form.objects.exists())

    def test_the_command_refuses_it_too(self) -> None:
        path = self.tmp_form("patrol.teem")
        with self.assertRaisesMessage(CommandError, "fieldkit mapping is wrong"):
            call_command(
                "publish_form", str(path), "--area", str(self.area.id), "--no-validate", stdout=io.StringIO()
            )
        self.assertFalse(Form.objects.exists())

    def tmp_form(self, target: str):  # type: ignore[no-untyped-def]
        import tempfile
        from pathlib import Path

        directory = Path(tempfile.mkdtemp())
        path = directory / "agency_patrol.xml"
        path.write_text(XFORM.format(target=target))
        return path
