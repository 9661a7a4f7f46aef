"""Every stored file keeps the SHA-256 storage computed while writing it: submission
attachments (received, replaced, carried into an edit, decrypted: see test_encryption) and
form media; rows from before the field get theirs from their file."""

from __future__ import annotations

import hashlib
import importlib
from io import BytesIO

import pytest
from django.apps import apps

from odk_forms import publishing, receiving, storage
from odk_forms.models import Attachment, MediaFile
from tests.base import BaseTestCase
from tests.xml_builders import make_form, make_instance, make_xform, photo_bytes

compute_migration = importlib.import_module("odk_forms.migrations.0007_compute_file_sha256")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class AttachmentHashTest(BaseTestCase):
    def setUp(self) -> None:
        self.version = make_form([self.area], photo_fields=("photo",))

    def receive(self, xml: bytes, photo: bytes):  # type: ignore[no-untyped-def]
        return receiving.receive_submission(xml, {"p.jpg": BytesIO(photo)}, user=self.collector)

    def test_a_received_attachment_keeps_its_sha256(self) -> None:
        photo = photo_bytes(seed=1)
        self.receive(make_instance(photo="p.jpg"), photo)
        self.assertEqual(Attachment.objects.get().sha256, sha256(photo))

    def test_a_replaced_attachment_gets_the_new_sha256(self) -> None:
        xml = make_instance(photo="p.jpg")
        self.receive(xml, photo_bytes(seed=1))
        newer = photo_bytes(seed=2)
        self.receive(xml, newer)
        attachment = Attachment.objects.get()
        self.assertEqual(attachment.sha256, sha256(newer))
        self.assertEqual(storage.read_bytes(attachment.file.name), newer)

    def test_an_edit_carries_the_sha256_of_the_files_it_keeps(self) -> None:
        photo = photo_bytes(seed=3)
        first = self.receive(make_instance(instance_id="uuid:a", photo="p.jpg"), photo)
        edit = make_instance(instance_id="uuid:b", deprecated_id="uuid:a", photo="p.jpg")
        receiving.receive_submission(edit, {}, user=self.collector)
        kept = Attachment.objects.exclude(submission=first.submission).get()
        self.assertEqual(kept.sha256, sha256(photo))


class MediaHashTest(BaseTestCase):
    def test_form_media_keep_their_sha256_across_versions(self) -> None:
        picture = photo_bytes(seed=4)
        make_form([self.area], media_files={"zebra.png": picture}, media=["zebra.png"])
        make_form([self.area], version="2", media=["zebra.png"])
        self.assertEqual(
            sorted(MediaFile.objects.values_list("form_version__version", "sha256")),
            [("1", sha256(picture)), ("2", sha256(picture))],
        )


@pytest.mark.django_db
def test_rows_from_before_get_the_sha256_of_their_file():
    picture = photo_bytes(seed=5)
    publishing.publish_form_version(
        "form.xml",
        make_xform(media=["zebra.png"]),
        media=[publishing.MediaUpload("zebra.png", picture)],
        validate=False,
    )
    MediaFile.objects.update(sha256="")
    compute_migration.compute(apps, None)
    assert MediaFile.objects.get().sha256 == sha256(picture)


@pytest.mark.django_db
def test_a_row_whose_file_is_gone_stays_without_one():
    publishing.publish_form_version(
        "form.xml",
        make_xform(media=["zebra.png"]),
        media=[publishing.MediaUpload("zebra.png", photo_bytes(seed=6))],
        validate=False,
    )
    storage.remove_file(MediaFile.objects.get().file.name)
    MediaFile.objects.update(sha256="")
    compute_migration.compute(apps, None)
    assert MediaFile.objects.get().sha256 == ""
