from __future__ import annotations

import hashlib

from odk_forms.models import FormVersion
from tests.base import BaseTestCase
from tests.xml_builders import make_form, make_xform, openrosa_headers


class FormDownloadTest(BaseTestCase):
    def setUp(self) -> None:
        self.version = make_form([self.area])
        self.url = f"/forms/patrol/versions/{self.version.pk}/form.xml"

    def test_it_works(self) -> None:
        response = self.client.get(self.url, **openrosa_headers("collector"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/xml; charset=utf-8")
        self.assertEqual(response["X-OpenRosa-Version"], "1.0")
        self.assertEqual(response.content, make_xform())

    def test_bytes_never_drift(self) -> None:
        first = self.client.get(self.url, **openrosa_headers("collector")).content
        second = self.client.get(self.url, **openrosa_headers("member")).content
        self.assertEqual(first, second)
        self.assertEqual(hashlib.md5(first, usedforsecurity=False).hexdigest(), FormVersion.objects.get().md5)

    def test_it_validates_area_membership(self) -> None:
        response = self.client.get(self.url, **openrosa_headers("outsider"))
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response["Content-Type"], "text/xml; charset=utf-8")

    def test_it_requires_authentication(self) -> None:
        self.assertEqual(self.client.get(self.url, **openrosa_headers(None)).status_code, 401)

    def test_version_must_belong_to_the_form(self) -> None:
        other = make_form([self.area], form_id="other")
        url = f"/forms/patrol/versions/{other.pk}/form.xml"
        self.assertEqual(self.client.get(url, **openrosa_headers("collector")).status_code, 404)

    def test_older_versions_stay_downloadable(self) -> None:
        make_form([self.area], version="2")
        response = self.client.get(self.url, **openrosa_headers("collector"))
        self.assertEqual(response.content, make_xform())

    def test_draft_by_its_token_only(self) -> None:
        draft = make_form([self.area], version="2", draft=True)
        response = self.client.get(f"/test/{draft.draft_token}/forms/patrol/form.xml")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, make_xform(version="2"))
        # Not through the published URLs.
        url = f"/forms/patrol/versions/{draft.pk}/form.xml"
        self.assertEqual(self.client.get(url, **openrosa_headers("collector")).status_code, 404)
