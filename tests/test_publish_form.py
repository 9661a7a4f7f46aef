"""publish_form (the command) and publish_form_version(): conversion, ODK Validate,
versions, drafts and media. The reference forms are real third-party XLSForms."""

from __future__ import annotations

import hashlib
import re
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from fieldkit.errors import Problem
from odk_forms import publishing
from odk_forms.models import Form, FormVersion, MediaFile
from tests.builders import SHARED_DATA, make_area
from tests.xml_builders import make_xform

PYXFORM_EXAMPLES = SHARED_DATA / "forms" / "pyxform_examples"
REFERENCE_FORMS = [
    *sorted(PYXFORM_EXAMPLES.glob("*.xls")),
    *sorted(PYXFORM_EXAMPLES.glob("*.xlsx")),
    PYXFORM_EXAMPLES / "widgets.csv",
    SHARED_DATA / "forms" / "cybertracker_aerial_survey" / "form.xlsx",
]
pytestmark = pytest.mark.django_db

INVALID_XFORM = make_xform().replace(b'type="string"/>', b'type="string" relevant="/data/count = = 1"/>', 1)


def publish(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("publish_form", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def write(directory: Path, name: str, content: bytes) -> Path:
    path = directory / name
    path.write_bytes(content)
    return path


def raises(exception: type[Exception], text: str):  # type: ignore[no-untyped-def]
    return pytest.raises(exception, match=re.escape(text))


# --- publish_form_version ----------------------------------------------------------------------


def test_the_reference_forms_are_there():
    assert len(REFERENCE_FORMS) == 8


@pytest.mark.parametrize("path", REFERENCE_FORMS, ids=lambda path: path.name)
def test_reference_forms_publish_and_validate(path):
    version = publishing.publish_form_version(path.name, path.read_bytes(), validate=True)
    assert version.md5 == hashlib.md5(bytes(version.xml), usedforsecurity=False).hexdigest()
    assert not version.is_draft
    assert version.form.current_version == version


def test_cybertracker_aerial_survey():
    path = SHARED_DATA / "forms" / "cybertracker_aerial_survey" / "form.xlsx"
    version = publishing.publish_form_version(path.name, path.read_bytes(), validate=True)
    assert version.form.xml_form_id == "form"
    # It shows pictures in its choices: the form lists them for the manifest.
    assert version.media_names


def test_bad_media_name():
    with pytest.raises(Problem):
        publishing.publish_form_version(
            "a.xml", make_xform(), media=[publishing.MediaUpload("../x.png", b"x")], validate=False
        )


def test_two_different_media_files_with_one_name_are_refused():
    media = [publishing.MediaUpload("zebra.png", b"one"), publishing.MediaUpload("zebra.png", b"two")]
    with pytest.raises(Problem) as caught:
        publishing.publish_form_version("a.xml", make_xform(media=["zebra.png"]), media=media, validate=False)
    assert caught.value.code == "400.46"
    assert not Form.objects.exists()


def test_the_same_media_file_twice_is_kept_once():
    media = [
        publishing.MediaUpload("zebra.png", b"one"),
        publishing.MediaUpload("zebra.png", BytesIO(b"one")),
    ]
    version = publishing.publish_form_version(
        "a.xml", make_xform(media=["zebra.png"]), media=media, validate=False
    )
    assert [(m.name, m.file.read()) for m in version.media_files.all()] == [("zebra.png", b"one")]


# --- The publish_form command ---------------------------------------------------------------


def test_it_prints_id_and_version():
    area = make_area()
    path = SHARED_DATA / "submissions/onadata_fixtures/main/tests/fixtures/transportation/transportation.xlsx"
    output = publish(path, "--area", str(area.pk))
    assert "transportation_2011_07_25 2014111 published" in output
    form = Form.objects.get()
    assert list(form.areas.all()) == [area]
    assert form.current_version.version == "2014111"


def test_xform_with_media(tmp_path):
    form_file = write(tmp_path, "species.xml", make_xform(media=["zebra.png"]))
    media = write(tmp_path, "zebra.png", b"\x89PNG")
    publish(form_file, "--media", str(media))
    assert MediaFile.objects.get().name == "zebra.png"


def test_new_version_keeps_old_ones(tmp_path):
    publish(write(tmp_path, "a.xml", make_xform(version="1")))
    publish(write(tmp_path, "b.xml", make_xform(version="2")))
    form = Form.objects.get()
    assert sorted(form.versions.values_list("version", flat=True)) == ["1", "2"]
    assert form.current_version.version == "2"


def test_same_version_twice_is_refused(tmp_path):
    publish(write(tmp_path, "a.xml", make_xform(version="1")))
    with raises(CommandError, "409.40"):
        publish(write(tmp_path, "b.xml", make_xform(version="1", title="Changed")))


def test_draft(tmp_path):
    publish(write(tmp_path, "a.xml", make_xform(version="1")))
    output = publish(write(tmp_path, "b.xml", make_xform(version="2")), "--draft")
    draft = FormVersion.objects.get(is_draft=True)
    assert f"/test/{draft.draft_token}" in output
    assert Form.objects.get().current_version.version == "1"
    publishing.publish_draft(draft.form)
    assert Form.objects.get().current_version.version == "2"


def test_a_new_draft_replaces_the_old_one(tmp_path):
    publish(write(tmp_path, "a.xml", make_xform(version="2")), "--draft")
    publish(write(tmp_path, "b.xml", make_xform(version="3")), "--draft")
    assert list(FormVersion.objects.values_list("version", flat=True)) == ["3"]


def test_invalid_form_is_refused_with_the_validator_message(tmp_path):
    with pytest.raises(CommandError) as caught:
        publish(write(tmp_path, "bad.xml", INVALID_XFORM))
    assert "ODK Validate rejected the form" in str(caught.value)
    assert "= = 1" in str(caught.value)
    assert not Form.objects.exists()


def test_unconvertible_xlsform(tmp_path):
    bad = write(tmp_path, "bad.md", b"| survey |\n| | type | name |\n| | text_wrong_type | q1 |\n")
    with raises(CommandError, "could not be converted"):
        publish(bad)


def test_unknown_area(tmp_path):
    with raises(CommandError, "No protected area with id 999"):
        publish(write(tmp_path, "a.xml", make_xform()), "--area", "999", "--no-validate")


def test_unsupported_file(tmp_path):
    with raises(CommandError, "not a form file"):
        publish(write(tmp_path, "a.pdf", b"%PDF"))
