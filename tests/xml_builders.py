"""Builders of XForms, submissions and OpenRosa requests, with keyword defaults."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from odk_forms import publishing, xform
from odk_forms.models import FormVersion
from protected_areas.models import ProtectedArea
from tests.base import PASSWORD

ORX = f"{{{xform.OPENROSA_NS}}}"
FORMLIST_NS = "{http://openrosa.org/xforms/xformsList}"
MANIFEST_NS = "{http://openrosa.org/xforms/xformsManifest}"
RESPONSE_NS = "{http://openrosa.org/http/response}"


def make_xform(
    form_id: str = "patrol",
    version: str = "1",
    title: str = "Patrol",
    fields: Iterable[str] = ("species", "count"),
    photo_fields: Iterable[str] = ("photo",),
    media: Iterable[str] = (),
    public_key: str | None = None,
    root: str = "data",
) -> bytes:
    """An XForm with text fields, image fields and images in itext (`media`)."""
    fields, photo_fields, media = list(fields), list(photo_fields), list(media)
    version_attr = f" version={quoteattr(version)}" if version is not None else ""
    nodes = "".join(f"<{f}/>" for f in [*fields, *photo_fields])
    binds = "".join(f'<bind nodeset="/{root}/{f}" type="string"/>' for f in fields)
    binds += "".join(f'<bind nodeset="/{root}/{f}" type="binary"/>' for f in photo_fields)
    itext = ""
    if media:
        values = "".join(
            f'<text id="m{i}"><value form="image">jr://images/{escape(name)}</value></text>'
            for i, name in enumerate(media)
        )
        itext = f'<itext><translation lang="English" default="true()">{values}</translation></itext>'
    submission = f'<submission base64RsaPublicKey="{public_key}"/>' if public_key else ""
    body = "".join(f'<input ref="/{root}/{f}"><label>{f}</label></input>' for f in fields)
    body += "".join(
        f'<upload mediatype="image/*" ref="/{root}/{f}"><label>{f}</label></upload>' for f in photo_fields
    )
    return (
        '<?xml version="1.0"?>\n'
        '<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" '
        'xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">'
        f"<h:head><h:title>{escape(title)}</h:title><model>{itext}"
        f"<instance><{root} id={quoteattr(form_id)}{version_attr}>{nodes}"
        f"<meta><instanceID/></meta></{root}></instance>"
        f'{binds}<bind nodeset="/{root}/meta/instanceID" type="string" readonly="true()" '
        f'jr:preload="uid"/>{submission}</model></h:head><h:body>{body}</h:body></h:html>'
    ).encode()


def make_instance(
    form_id: str = "patrol",
    version: str | None = "1",
    instance_id: str | None = None,
    deprecated_id: str | None = None,
    values: dict[str, str] | None = None,
    photo: str | None = None,
    root: str = "data",
) -> bytes:
    """A filled-in instance as ODK Collect saves it; instance_id "" leaves meta out."""
    if instance_id is None:
        instance_id = f"uuid:{uuid.uuid4()}"
    answers: dict[str, object] = {"species": "Casuarius", "count": "2", **(values or {})}
    if photo is not None:
        answers["photo"] = photo
    if instance_id:
        answers[ORX + "meta"] = openrosa_meta(instance_id, deprecated_id)
    attrib = {"id": form_id} if version is None else {"id": form_id, "version": version}
    return xform.write_instance(root, attrib, answers)


def openrosa_meta(instance_id: str, deprecated_id: str | None = None) -> dict[str, object]:
    """The meta block of an instance, in OpenRosa's namespace as Collect writes it."""
    meta: dict[str, object] = {ORX + "instanceID": instance_id}
    if deprecated_id:
        meta[ORX + "deprecatedID"] = deprecated_id
    return meta


def make_form(
    areas: Iterable[ProtectedArea] = (),
    media_files: dict[str, bytes] | None = None,
    draft: bool = False,
    **xform: object,
) -> FormVersion:
    """Publish a form built by make_xform, with `media_files` uploaded (the form refers to
    files with `media=[...]`), without ODK Validate: that is tested elsewhere."""
    return publishing.publish_form_version(
        "form.xml",
        make_xform(**xform),  # type: ignore[arg-type]
        media=[publishing.MediaUpload(name, data) for name, data in (media_files or {}).items()],
        draft=draft,
        area_ids=[a.id for a in areas],
        validate=False,
    )


def photo_bytes(size: int = 2048, seed: int = 0) -> bytes:
    return (b"\xff\xd8\xff\xe0" + bytes([seed % 256]) * size)[:size]


def basic_auth(username: str, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def openrosa_headers(username: str | None) -> dict[str, object]:
    """Headers of an authenticated OpenRosa request, over https as Basic requires."""
    headers: dict[str, object] = {"HTTP_X_OPENROSA_VERSION": "1.0", "secure": True}
    if username is not None:
        headers["HTTP_AUTHORIZATION"] = basic_auth(username)
    return headers


def submission_body(xml: bytes, files: dict[str, bytes] | None = None, **fields: str) -> dict[str, object]:
    """Multipart fields as Collect sends them: the XML part and one part per file."""
    data: dict[str, object] = {
        "xml_submission_file": SimpleUploadedFile("submission.xml", xml, content_type="text/xml")
    }
    for name, content in (files or {}).items():
        data[name] = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    data.update(fields)
    return data


def post_submission(
    client: Client,
    xml: bytes,
    files: dict[str, bytes] | None = None,
    username: str | None = "collector",
    path: str = "/submission",
    **fields: str,
):  # type: ignore[no-untyped-def]
    return client.post(path, submission_body(xml, files, **fields), **openrosa_headers(username))  # type: ignore[arg-type]


BOUNDARY = "----collect-boundary-7f3a"


def file_part(
    name: str | bytes,
    content: bytes,
    filename: str | bytes | None = "",
    content_type: str = "application/octet-stream",
) -> tuple[bytes, bytes]:
    """One part for multipart_body(): a file named `filename` (by default, like its part:
    ODK Collect names each part after its file), or with None a plain form field. Names
    given as bytes go into the header untouched."""
    as_bytes = name.encode() if isinstance(name, str) else name
    disposition = b'Content-Disposition: form-data; name="' + as_bytes + b'"'
    if filename is not None:
        file_name = filename.encode() if isinstance(filename, str) else filename
        disposition += b'; filename="' + (file_name or as_bytes) + b'"'
    if filename is not None or content_type != "application/octet-stream":
        disposition += f"\r\nContent-Type: {content_type}".encode()
    return disposition, content


def multipart_body(parts: Iterable[tuple[bytes, bytes]], boundary: str = BOUNDARY) -> tuple[bytes, str]:
    """A multipart body written byte by byte from (headers, content) pairs, for requests the
    test client's encoder would refuse or alter: two parts with one name, raw header bytes."""
    delimiter = f"--{boundary}\r\n".encode()
    body = b"".join(delimiter + headers + b"\r\n\r\n" + content + b"\r\n" for headers, content in parts)
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def raw_multipart(
    xml: bytes, files: dict[str, bytes] | None = None, boundary: str = BOUNDARY
) -> tuple[bytes, str]:
    """A submission body written byte by byte as ODK Collect sends it (each file part named
    by its file name), for requests the test client's encoder would refuse or alter."""
    parts = [file_part("xml_submission_file", xml, "submission.xml", "text/xml")]
    parts += [file_part(name, content) for name, content in (files or {}).items()]
    return multipart_body(parts, boundary)
