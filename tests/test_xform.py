"""odk_forms.xform: pure parsing of XForms and instances, hardened; file name sanitising;
the instance builder."""

from __future__ import annotations

import pytest

from odk_forms import xform
from tests.builders import SHARED_DATA
from tests.xml_builders import make_instance, make_xform

TRANSPORT = SHARED_DATA / "submissions/onadata_fixtures/main/tests/fixtures/transportation"


# --- Forms ---------------------------------------------------------------------------------


def test_parse_xform_works():
    info = xform.parse_xform(make_xform(media=["b.png", "a.png"], photo_fields=("photo", "photo2")))
    assert (info.form_id, info.version, info.title, info.instance_root) == ("patrol", "1", "Patrol", "data")
    assert info.binary_paths == ("/data/photo", "/data/photo2")
    assert info.media_names == ("a.png", "b.png")
    assert not info.is_encrypted


def test_parse_a_real_form():
    info = xform.parse_xform((TRANSPORT / "transportation.xml").read_bytes())
    assert (info.form_id, info.version) == ("transportation_2011_07_25", "201411120717")
    assert info.binary_paths == ("/data/image1",)


def test_a_public_key_makes_the_form_encrypted():
    assert xform.parse_xform(make_xform(public_key="MIIB")).is_encrypted


def test_csv_and_file_instances_are_media():
    xml = make_xform().replace(
        b"<instance>", b'<instance id="trees" src="jr://file-csv/trees.csv"/><instance>', 1
    )
    assert xform.parse_xform(xml).media_names == ("trees.csv",)


@pytest.mark.parametrize(
    "bad",
    [b"<html/>", b"not xml", b'<h:html xmlns:h="http://www.w3.org/1999/xhtml"><h:head/></h:html>'],
)
def test_not_an_xform(bad):
    with pytest.raises(xform.XMLError):
        xform.parse_xform(bad)


def test_a_form_without_id():
    with pytest.raises(xform.XMLError, match="no id"):
        xform.parse_xform(make_xform().replace(b' id="patrol"', b""))


# --- Instances -----------------------------------------------------------------------------


def test_parse_instance_works():
    info = xform.parse_instance(make_instance(instance_id="uuid:1", deprecated_id="uuid:0"))
    assert (info.form_id, info.version) == ("patrol", "1")
    assert (info.instance_id, info.deprecated_id) == ("uuid:1", "uuid:0")
    assert not (info.instance_id_derived or info.encrypted)


def test_an_instance_without_version_attribute():
    assert xform.parse_instance(make_instance(version=None)).version is None


def test_instance_id_on_the_root():
    attribute = b'<data id="f" instanceID="uuid:a"><x/></data>'
    child = b'<data id="f"><instanceID>uuid:b</instanceID></data>'
    assert xform.parse_instance(attribute).instance_id == "uuid:a"
    assert xform.parse_instance(child).instance_id == "uuid:b"


def test_a_missing_instance_id_is_derived_from_the_bytes():
    first = xform.parse_instance(make_instance(instance_id=""))
    again = xform.parse_instance(make_instance(instance_id=""))
    other = xform.parse_instance(make_instance(instance_id="", values={"count": "9"}))
    assert first.instance_id_derived
    assert first.instance_id == again.instance_id
    assert first.instance_id != other.instance_id


def test_referenced_files_in_groups_and_repeats():
    xml = (
        b'<data id="f"><photo>a.jpg</photo><g><rep><pic>b.jpg</pic></rep><rep><pic>c.jpg</pic></rep>'
        b"<rep><pic/></rep></g><other>d.jpg</other></data>"
    )
    info = xform.parse_instance(xml)
    assert info.referenced_files(["/data/photo", "/data/g/rep/pic"]) == frozenset({"a.jpg", "b.jpg", "c.jpg"})
    assert info.referenced_files([]) == frozenset()


def test_referenced_files_ignore_the_root_name():
    # Old instances name their root after the form; the form says "data".
    info = xform.parse_instance(
        (TRANSPORT / "instances/transport_2011-07-25_19-05-49/transport_2011-07-25_19-05-49.xml").read_bytes()
    )
    assert info.referenced_files(["/data/image1"]) == frozenset({"1335783522563.jpg"})


def test_an_encrypted_envelope():
    info = xform.parse_instance((TRANSPORT / "instances_encrypted/submission.xml").read_bytes())
    assert info.encrypted
    assert info.instance_id == "uuid:c15252fe-b6f3-4853-8f04-bf89dc73985a"
    assert info.referenced_files() == frozenset({"submission.xml.enc"})


# --- Hardened parsing ------------------------------------------------------------------------


def test_billion_laughs():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><data id="f"><x>&c;</x></data>'
    )
    with pytest.raises(xform.XMLError, match="forbidden"):
        xform.parse_instance(bomb)


def test_external_entity():
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><data id="f">&x;</data>'
    )
    with pytest.raises(xform.XMLError):
        xform.parse_instance(xxe)


def test_any_doctype():
    with pytest.raises(xform.XMLError):
        xform.parse_xform(b'<!DOCTYPE html SYSTEM "http://example.org/x.dtd"><html/>')


# --- File names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("photo.jpg", "photo.jpg"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\IMG 1.jpg", "IMG 1.jpg"),
        ("..", ""),
        (".", ""),
        ("", ""),
        ("a\x00b.jpg", "a_b.jpg"),
        ("what?.jpg", "what_.jpg"),
        ("trailing. ", "trailing"),
        ("e\u0301.jpg", "\u00e9.jpg"),
    ],
)
def test_sanitize_filename(raw, expected):
    assert xform.sanitize_filename(raw) == expected


def test_long_names_keep_their_extension():
    name = xform.sanitize_filename("x" * 300 + ".jpg")
    assert name.endswith(".jpg")
    assert len(name.encode()) <= 200


# --- Writing instances -----------------------------------------------------------------------


def test_write_instance_writes_groups_repeats_and_empty_answers():
    xml = xform.write_instance(
        "data",
        {"id": "f", "version": "2"},
        {"a": "x & y", "empty": "", "g": {"b": 3}, "rep": [{"c": "1"}, {"c": "2"}], "none": None},
    )
    assert xml == (
        b'<?xml version=\'1.0\' ?><data id="f" version="2"><a>x &amp; y</a><empty /><g><b>3</b></g>'
        b"<rep><c>1</c></rep><rep><c>2</c></rep><none /></data>"
    )


def test_fill_instance_follows_the_forms_instance():
    form = make_xform(fields=("species", "count"), photo_fields=())
    xml = xform.fill_instance(form, {"count": 4, "unknown": "dropped"}, "uuid:9")
    assert xml == (
        b'<?xml version=\'1.0\' ?><data id="patrol" version="1"><species /><count>4</count>'
        b"<meta><instanceID>uuid:9</instanceID></meta></data>"
    )
    info = xform.parse_instance(xml)
    assert (info.form_id, info.instance_id) == ("patrol", "uuid:9")
