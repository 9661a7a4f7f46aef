"""Pure parsing of XForms and of the instances (submissions) filled from them.

Nothing here touches the database or the file system: bytes in, dataclasses out, so the
same code serves the request path, processing, the publish command and the tests.

XML comes from phones and uploads, so it is parsed with defusedxml and DTDs forbidden:
no entity expansion (billion laughs), no external entities, no network access. The XML
bytes themselves are never re-serialised; what is stored and served is what was received.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError, SubElement, register_namespace, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

# ODK's limit for instanceID and version (openrosa-metadata).
MAX_ID_LENGTH = 249

# Media a form refers to: itext images/audio/video, external instances (select_one_from_file,
# pulldata CSVs) and big images. jr://file-csv/ is how pyxform references CSV instances.
_MEDIA_REF = re.compile(rb"jr://(?:images|audio|video|file|file-csv)/([^\"'<>\s)]+)")
_UNSAFE_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


class XMLError(ValueError):
    """The bytes are not well-formed, safe XML."""


@dataclass(frozen=True)
class XFormInfo:
    form_id: str
    version: str
    title: str
    # Name of the primary instance's root element, e.g. "data".
    instance_root: str
    # Absolute paths (/data/group/photo) of fields whose value is an attachment file name.
    binary_paths: tuple[str, ...]
    # File names the form refers to with jr:// URIs, sorted.
    media_names: tuple[str, ...]
    base64_rsa_public_key: str = ""
    submission_url: str = ""

    @property
    def is_encrypted(self) -> bool:
        return bool(self.base64_rsa_public_key)


@dataclass(frozen=True)
class InstanceInfo:
    """What the request path needs from a submission: who it is, where it goes, which files."""

    form_id: str
    version: str | None  # None: the root element has no version attribute
    instance_id: str
    # True when the instance had no instanceID and one was derived from its content.
    instance_id_derived: bool
    deprecated_id: str
    encrypted: bool
    instance_name: str = ""
    # The parsed document, for referenced_files(); not part of equality or repr.
    root: Element | None = field(default=None, compare=False, repr=False)

    def referenced_files(self, binary_paths: tuple[str, ...] | list[str] = ()) -> frozenset[str]:
        """Names of the files the XML refers to: the values of the form's attachment fields
        (`binary_paths`, from XFormInfo), or the envelope's files when encrypted."""
        if self.root is None:
            return frozenset()
        if self.encrypted:
            names = {text(f) for m in children(self.root, "media") for f in children(m, "file")}
            names.add(text(child(self.root, "encryptedXmlFile")))
        elif binary_paths:
            names = _values_at(self.root, frozenset(binary_paths))
        else:
            return frozenset()
        return frozenset(basename(n) for n in names if n)


def parse_xml(data: bytes) -> Element:
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise XMLError(f"forbidden XML construct: {type(exc).__name__}") from exc
    except ParseError as exc:
        raise XMLError(str(exc)) from exc


# The XML helpers every module uses (forms, instances, encrypted envelopes, mappings).
# Producers put the same elements in different namespaces (Collect, Enketo, pyxform,
# OpenRosa's meta), so elements are matched on their local names.


def local_name(tag: str) -> str:
    """`{namespace}name` → `name`."""
    return tag.rpartition("}")[2]


def children(element: Element, name: str) -> list[Element]:
    """The children of `element` whose local name is `name`."""
    return [c for c in element if local_name(c.tag) == name]


def child(element: Element | None, name: str) -> Element | None:
    """The first child of `element` whose local name is `name` (None for no element)."""
    if element is None:
        return None
    for c in element:
        if local_name(c.tag) == name:
            return c
    return None


def parse_xform(data: bytes) -> XFormInfo:
    """Read the identity, media references and binary fields of an XForm."""
    root = parse_xml(data)
    head = child(root, "head")
    model = child(head, "model") if head is not None else None
    if model is None:
        raise XMLError("no h:head/model element: not an XForm")
    instances = children(model, "instance")
    # The primary instance is the first one without an id (secondary ones have ids).
    primary = next((i for i in instances if "id" not in i.attrib), None)
    if primary is None or len(primary) == 0:
        raise XMLError("no primary instance in the model")
    data_root = primary[0]
    form_id = data_root.get("id", "").strip()
    if not form_id:
        raise XMLError("the primary instance's root element has no id attribute")
    version = data_root.get("version", "").strip()
    if len(form_id) > MAX_ID_LENGTH or len(version) > MAX_ID_LENGTH:
        raise XMLError(f"form id and version are limited to {MAX_ID_LENGTH} characters")
    title_element = child(head, "title") if head is not None else None
    title = (title_element.text or "").strip() if title_element is not None else ""

    binary_paths: set[str] = set()
    for bind in children(model, "bind"):
        if bind.get("type", "").rpartition(":")[2] == "binary" and bind.get("nodeset"):
            binary_paths.add(_strip_predicates(bind.get("nodeset", "")))
    body = child(root, "body")
    if body is not None:
        for element in body.iter():
            if local_name(element.tag) == "upload" and element.get("ref"):
                binary_paths.add(_strip_predicates(element.get("ref", "")))

    submission = child(model, "submission")
    public_key = submission.get("base64RsaPublicKey", "").strip() if submission is not None else ""
    action = submission.get("action", "").strip() if submission is not None else ""
    media = sorted({name.decode("utf-8", "replace") for name in _MEDIA_REF.findall(data)})
    return XFormInfo(
        form_id=form_id,
        version=version,
        title=title or form_id,
        instance_root=local_name(data_root.tag),
        binary_paths=tuple(sorted(binary_paths)),
        media_names=tuple(basename(name) for name in media),
        base64_rsa_public_key=public_key,
        submission_url=action,
    )


def _strip_predicates(path: str) -> str:
    return re.sub(r"\[[^\]]*\]", "", path.strip())


def parse_instance(data: bytes) -> InstanceInfo:
    """Identify a submission: form id, version, instanceID, deprecatedID, encryption."""
    root = parse_xml(data)
    form_id = root.get("id", "").strip()
    version = root.get("version")
    encrypted = root.get("encrypted", "").strip().lower() == "yes"

    meta = child(root, "meta")
    instance_id = deprecated_id = instance_name = ""
    if meta is not None:
        instance_id = text(child(meta, "instanceID"))
        deprecated_id = text(child(meta, "deprecatedID"))
        instance_name = text(child(meta, "instanceName"))
    # Old clients put the id on the root, as an attribute or a child (Central reads both).
    instance_id = instance_id or root.get("instanceID", "").strip() or text(child(root, "instanceID"))
    derived = False
    if not instance_id:
        # Instances from very old Collect versions carry no instanceID. The id is derived
        # from the exact bytes rather than drawn at random, so that a re-send of the same
        # file (the usual case: the phone did not get the answer) is recognised as a
        # duplicate instead of becoming a second record.
        instance_id = "uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, hashlib.sha256(data).hexdigest()))
        derived = True
    return InstanceInfo(
        form_id=form_id,
        version=version.strip() if version is not None else None,
        instance_id=instance_id,
        instance_id_derived=derived,
        deprecated_id=deprecated_id,
        encrypted=encrypted,
        instance_name=instance_name,
        root=root,
    )


def text(element: Element | None) -> str:
    """The stripped text of an element, "" for none."""
    if element is None or element.text is None:
        return ""
    return element.text.strip()


def _values_at(root: Element, paths: frozenset[str]) -> set[str]:
    """Text of every element whose index-free path is in `paths` (repeats included).

    The root element's name is left out of the comparison: instances saved by old clients
    name their root after the form ("transportation") where the form now says "data".
    """
    relative = {p.strip("/").partition("/")[2] for p in paths}
    relative.discard("")
    prefixes = {r.rsplit("/", i)[0] for r in relative for i in range(r.count("/") + 1)}
    found: set[str] = set()
    stack: list[tuple[Element, str]] = [(child, local_name(child.tag)) for child in root]
    while stack:
        element, path = stack.pop()
        if path in relative:
            found.add(text(element))
        elif path in prefixes:
            stack.extend((child, f"{path}/{local_name(child.tag)}") for child in element)
    return found


def basename(name: str) -> str:
    """The last component of a path as a client may send it ("a/b.jpg", "C:\\x\\b.jpg")."""
    return re.split(r"[/\\]", name.strip())[-1]


def sanitize_filename(name: str) -> str:
    """A file name safe to store and to show: no folders, no "..", no control characters.

    Returns "" when nothing usable is left; callers refuse or rename such parts.
    """
    name = unicodedata.normalize("NFC", basename(name))
    name = _UNSAFE_NAME_CHARS.sub("_", name).strip(" .")
    if name in ("", ".", ".."):
        return ""
    # Keep the extension when shortening: it tells the kind of file.
    if len(name.encode()) > 200:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot else ""
        stem = (stem if dot else name).encode()[: 200 - len(ext.encode()) - 1].decode("utf-8", "ignore")
        name = f"{stem}.{ext}" if ext else stem
    return name


# --- Writing instances ---------------------------------------------------------------------

OPENROSA_NS = "http://openrosa.org/xforms"
JR_TEMPLATE = "{http://openrosa.org/javarosa}template"
# Instances written here name OpenRosa's meta elements as Collect does.
register_namespace("orx", OPENROSA_NS)


def write_instance(root: str, attrib: Mapping[str, str], values: Mapping[str, Any]) -> bytes:
    """A filled-in instance as a client sends it: the one instance builder (the demo data,
    the benchmarks and the tests use it).

    `values` maps element names (`{namespace}name` for a namespaced one) to answers: text
    or a number is the element's text, None or "" leaves it empty, a dict is a group, a
    list of dicts a repeat (one element per dict). Elements are written in `values`' order.
    """
    out = Element(root, dict(attrib))
    _write(out, values)
    return b"<?xml version='1.0' ?>" + tostring(out, encoding="unicode").encode()


def _write(out: Element, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        if isinstance(value, list):
            for item in value:
                _write(SubElement(out, name), item)
        elif isinstance(value, Mapping):
            _write(SubElement(out, name), value)
        else:
            element = SubElement(out, name)
            if value is not None and value != "":
                element.text = str(value)


def fill_instance(
    xform_xml: bytes, values: Mapping[str, Any], instance_id: str, meta: Mapping[str, str] | None = None
) -> bytes:
    """A filled-in instance of an XForm, shaped by the form's own primary instance.

    `values` maps question names to answers; a list of dicts fills a repeat (one instance
    per dict, same rules inside); a dict fills a group, and a group without one takes its
    questions from the enclosing dict. Unanswered questions are left empty, as Collect
    leaves them. `meta` answers the form's meta questions; instanceID is `instance_id`.
    """
    template = _instance_template(xform_xml)
    shaped = _shape(template, values)
    answers = shaped.get("meta")
    if not isinstance(answers, dict):
        answers = shaped["meta"] = {}
    for name in answers:
        if name == "instanceID":
            answers[name] = instance_id
        elif meta and name in meta:
            answers[name] = meta[name]
    answers.setdefault("instanceID", instance_id)
    attrib = {k: v for k, v in template.attrib.items() if "}" not in k}
    return write_instance(local_name(template.tag), attrib, shaped)


@functools.lru_cache(maxsize=32)
def _instance_template(xform_xml: bytes) -> Element:
    """The primary instance's root element of an XForm, parsed once per document (a demo
    or a benchmark fills thousands from a few forms). Read only: _shape never changes it."""
    root = parse_xml(xform_xml)
    model = next(e for e in root.iter() if local_name(e.tag) == "model")
    primary = next(e for e in model if local_name(e.tag) == "instance" and "id" not in e.attrib)
    return primary[0]


def _shape(template: Element, values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` laid out as the template's elements, in its order."""
    shaped: dict[str, Any] = {}
    for element in template:
        name = local_name(element.tag)
        value = values.get(name)
        if element.get(JR_TEMPLATE) is not None or isinstance(value, list):
            # The template and its first instance both appear in the form: the first wins.
            if name not in shaped:
                shaped[name] = [_shape(element, item) for item in value or []]
        elif len(element):
            # A group's questions come from its own dict if given, else from the enclosing one.
            shaped[name] = _shape(element, value if isinstance(value, dict) else values)
        elif name not in shaped:
            shaped[name] = value
    return shaped
