from __future__ import annotations

import hashlib

from defusedxml.ElementTree import fromstring

from accounts.models import CollectorToken
from odk_forms import publishing
from odk_forms.models import FormState
from tests.base import BaseTestCase
from tests.xml_builders import FORMLIST_NS, make_form, openrosa_headers


def xforms(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    root = fromstring(response.content)
    assert root.tag == f"{FORMLIST_NS}xforms"
    return [{child.tag.removeprefix(FORMLIST_NS): child.text for child in xform} for xform in root]


class FormListTest(BaseTestCase):
    def setUp(self) -> None:
        self.version = make_form([self.area], form_id="patrol", title="Patrol <route>")

    def get(self, path: str = "/formList", username: str | None = "collector", **params: str):  # type: ignore[no-untyped-def]
        return self.client.get(path, params, **openrosa_headers(username))

    def test_it_works(self) -> None:
        response = self.get()
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/xml; charset=utf-8")
        self.assertEqual(response["X-OpenRosa-Version"], "1.0")
        self.assertEqual(response["X-OpenRosa-Accept-Content-Length"], "100000000")
        self.assertTrue(response.has_header("Date"))
        self.assertEqual(response["Content-Language"], "en")
        [entry] = xforms(response)
        self.assertEqual(entry["formID"], "patrol")
        self.assertEqual(entry["name"], "Patrol <route>")
        self.assertEqual(entry["version"], "1")
        self.assertEqual(entry["hash"], f"md5:{self.version.md5}")
        self.assertNotIn("manifestUrl", entry)

    def test_hash_is_md5_of_the_downloaded_bytes(self) -> None:
        [entry] = xforms(self.get())
        download = self.client.get(entry["downloadUrl"], **openrosa_headers("collector"))
        self.assertEqual(download.status_code, 200)
        self.assertEqual(
            entry["hash"], "md5:" + hashlib.md5(download.content, usedforsecurity=False).hexdigest()
        )

    def test_it_validates_area_membership(self) -> None:
        self.assertEqual(xforms(self.get(username="outsider")), [])

    def test_every_collecting_role_sees_it(self) -> None:
        for username in ("owner", "member", "collector"):
            self.assertEqual(len(xforms(self.get(username=username))), 1, username)

    def test_it_requires_authentication(self) -> None:
        response = self.get(username=None)
        self.assertEqual(response.status_code, 401)
        self.assertIn("Digest", response["WWW-Authenticate"])
        self.assertEqual(response["X-OpenRosa-Version"], "1.0")
        self.assertEqual(response["Content-Type"], "text/xml; charset=utf-8")

    def test_head_is_204(self) -> None:
        response = self.client.head("/formList", **openrosa_headers("collector"))
        self.assertEqual(response.status_code, 204)
        self.assertEqual(response["X-OpenRosa-Version"], "1.0")

    def test_form_id_filter(self) -> None:
        make_form([self.area], form_id="incident")
        self.assertEqual([e["formID"] for e in xforms(self.get())], ["incident", "patrol"])
        self.assertEqual([e["formID"] for e in xforms(self.get(formID="incident"))], ["incident"])
        self.assertEqual(xforms(self.get(formID="nope")), [])

    def test_other_parameters_are_ignored(self) -> None:
        self.assertEqual(len(xforms(self.get(verbose="true", listAllVersions="true", deviceID="x"))), 1)

    def test_closing_and_closed_forms_are_not_listed(self) -> None:
        for state in (FormState.CLOSING, FormState.CLOSED):
            publishing.set_form_state(self.version.form, state)
            self.assertEqual(xforms(self.get()), [], state)

    def test_lists_the_current_version(self) -> None:
        newer = make_form([self.area], form_id="patrol", version="2")
        [entry] = xforms(self.get())
        self.assertEqual((entry["version"], entry["hash"]), ("2", f"md5:{newer.md5}"))

    def test_drafts_are_not_listed(self) -> None:
        make_form([self.area], form_id="fresh", draft=True)
        make_form([self.area], form_id="patrol", version="2", draft=True)
        [entry] = xforms(self.get())
        self.assertEqual((entry["formID"], entry["version"]), ("patrol", "1"))

    def test_manifest_url_when_the_form_refers_to_media(self) -> None:
        make_form([self.area], form_id="species", media=["cassowary.jpg"])
        entry = next(e for e in xforms(self.get()) if e["formID"] == "species")
        self.assertTrue(entry["manifestUrl"].endswith("/manifest"))

    def test_collector_token_urls_stay_under_the_token(self) -> None:
        token = CollectorToken.objects.create(user=self.collector).token
        response = self.client.get(f"/key/{token}/formList")
        self.assertEqual(response.status_code, 200)
        [entry] = xforms(response)
        self.assertIn(f"/key/{token}/forms/patrol/", entry["downloadUrl"])
        self.assertEqual(self.client.get(entry["downloadUrl"]).status_code, 200)

    def test_draft_test_url_lists_only_the_draft(self) -> None:
        draft = make_form([self.area], form_id="patrol", version="2", draft=True)
        response = self.client.get(f"/test/{draft.draft_token}/formList")
        self.assertEqual(response.status_code, 200)
        [entry] = xforms(response)
        self.assertEqual((entry["version"], entry["hash"]), ("2", f"md5:{draft.md5}"))
        self.assertIn(f"/test/{draft.draft_token}/forms/patrol/form.xml", entry["downloadUrl"])

    def test_unknown_draft_token(self) -> None:
        self.assertEqual(self.client.get("/test/nope/formList").status_code, 404)
