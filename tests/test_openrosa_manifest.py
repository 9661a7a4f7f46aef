from __future__ import annotations

import hashlib

from defusedxml.ElementTree import fromstring

from accounts.models import AreaMembership, Role
from standard_forms.install import areas_media
from tests.base import BaseTestCase
from tests.xml_builders import MANIFEST_NS, make_form, openrosa_headers

MEDIA = {"zebra.png": b"\x89PNG zebra", "cassowary.jpg": b"\xff\xd8 cassowary"}


def media_files(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    root = fromstring(response.content)
    assert root.tag == f"{MANIFEST_NS}manifest"
    return [{c.tag.removeprefix(MANIFEST_NS): c.text for c in media} for media in root]


class ManifestTest(BaseTestCase):
    def setUp(self) -> None:
        # The form refers to three files; two are uploaded.
        self.version = make_form(
            [self.area], media=["zebra.png", "cassowary.jpg", "later.png"], media_files=MEDIA
        )
        self.url = f"/forms/patrol/versions/{self.version.pk}/manifest"

    def test_it_works(self) -> None:
        response = self.client.get(self.url, **openrosa_headers("collector"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/xml; charset=utf-8")
        self.assertEqual(response["X-OpenRosa-Version"], "1.0")
        entries = media_files(response)
        # Sorted, and only the files the server holds.
        self.assertEqual([e["filename"] for e in entries], ["cassowary.jpg", "zebra.png"])
        for entry in entries:
            self.assertEqual(
                entry["hash"],
                "md5:" + hashlib.md5(MEDIA[entry["filename"]], usedforsecurity=False).hexdigest(),
            )
            download = self.client.get(entry["downloadUrl"], **openrosa_headers("collector"))
            self.assertEqual(download.status_code, 200)
            self.assertEqual(b"".join(download.streaming_content), MEDIA[entry["filename"]])

    def test_it_is_byte_identical_every_time(self) -> None:
        first = self.client.get(self.url, **openrosa_headers("collector")).content
        self.assertEqual(first, self.client.get(self.url, **openrosa_headers("collector")).content)

    def test_it_validates_area_membership(self) -> None:
        self.assertEqual(self.client.get(self.url, **openrosa_headers("outsider")).status_code, 404)
        media_url = f"/forms/patrol/versions/{self.version.pk}/media/zebra.png"
        self.assertEqual(self.client.get(media_url, **openrosa_headers("outsider")).status_code, 404)

    def test_unknown_media_file(self) -> None:
        url = f"/forms/patrol/versions/{self.version.pk}/media/nope.png"
        self.assertEqual(self.client.get(url, **openrosa_headers("collector")).status_code, 404)

    def test_new_version_keeps_media_it_still_refers_to(self) -> None:
        newer = make_form(
            [self.area], version="2", media=["zebra.png", "later.png"], media_files={"later.png": b"later"}
        )
        url = f"/forms/patrol/versions/{newer.pk}/manifest"
        entries = media_files(self.client.get(url, **openrosa_headers("collector")))
        self.assertEqual([e["filename"] for e in entries], ["later.png", "zebra.png"])

    def test_draft_manifest(self) -> None:
        draft = make_form([self.area], version="2", draft=True, media=["zebra.png"], media_files=MEDIA)
        response = self.client.get(f"/test/{draft.draft_token}/forms/patrol/manifest")
        self.assertEqual(response.status_code, 200)
        urls = [e["downloadUrl"] for e in media_files(response)]
        self.assertTrue(all(f"/test/{draft.draft_token}/forms/patrol/media/" in url for url in urls))
        self.assertEqual(self.client.get(urls[0]).status_code, 200)


class AreasListTest(BaseTestCase):
    """areas.csv, the list the standard forms choose an area from, is made for each user:
    the areas of the form where that user may send data."""

    def setUp(self) -> None:
        both = areas_media([self.area, self.other_area])
        self.version = make_form(
            [self.area, self.other_area], media=["areas.csv"], media_files={"areas.csv": both}
        )
        self.url = f"/forms/patrol/versions/{self.version.pk}/manifest"

    def areas_of(self, username: str) -> list[str]:
        """The area names `username` downloads; the manifest's hash is that of those bytes."""
        (entry,) = media_files(self.client.get(self.url, **openrosa_headers(username)))
        download = self.client.get(entry["downloadUrl"], **openrosa_headers(username))
        self.assertEqual(download.status_code, 200)
        content = b"".join(download.streaming_content) if download.streaming else download.content
        self.assertEqual(entry["hash"], "md5:" + hashlib.md5(content, usedforsecurity=False).hexdigest())
        self.assertEqual(download["ETag"], f'"{entry["hash"].removeprefix("md5:")}"')
        header, *rows = content.decode().splitlines()
        self.assertEqual(header, "name,label")
        return [row.split(",", 1)[1] for row in rows]

    def test_a_collector_gets_only_its_areas(self) -> None:
        self.assertEqual(self.areas_of("collector"), ["Varirata National Park"])

    def test_a_user_of_both_areas_gets_both(self) -> None:
        AreaMembership.objects.create(user=self.member, area=self.other_area, role=Role.COLLECTOR)
        self.assertEqual(
            self.areas_of("member"), ["Tonda Wildlife Management Area", "Varirata National Park"]
        )

    def test_a_viewer_role_adds_no_area(self) -> None:
        AreaMembership.objects.create(user=self.collector, area=self.other_area, role=Role.VIEWER)
        self.assertEqual(self.areas_of("collector"), ["Varirata National Park"])

    def test_a_manager_of_the_other_area_gets_that_area(self) -> None:
        self.assertEqual(self.areas_of("outsider"), ["Tonda Wildlife Management Area"])

    def test_the_draft_test_url_gets_the_forms_areas(self) -> None:
        draft = make_form(
            [self.area],
            version="2",
            draft=True,
            media=["areas.csv"],
            media_files={"areas.csv": b"name,label\n"},
        )
        response = self.client.get(f"/test/{draft.draft_token}/forms/patrol/media/areas.csv")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.content.decode().splitlines(),
            [
                "name,label",
                f"{self.other_area.wdpa_id},Tonda Wildlife Management Area",
                f"{self.area.wdpa_id},Varirata National Park",
            ],
        )
