"""A form's fieldkit mapping, checked when the form is published and read again, once per
published version, when its submissions are recorded.

`check_form` is the check odk_forms runs at publication (setting ODK_FORMS_FORM_CHECKS): a
form whose mapping is wrong is refused there, with every mistake listed, rather than
failing its submissions later.
"""

from __future__ import annotations

from fieldkit import errors
from observations import vocabulary
from odk_forms.models import FormVersion


def check_form(name: str, xml: bytes) -> vocabulary.FormMapping:
    """Read a form's fieldkit mapping at publication; raise FORM_MAPPING_INVALID, listing
    every mistake, if it is wrong."""
    try:
        return vocabulary.read_mapping(xml)
    except vocabulary.MappingError as exc:
        raise errors.FORM_MAPPING_INVALID(name=name, detail="; ".join(exc.problems)) from exc


# Published versions never change, so their mapping is read once per process. The key
# holds the XML's md5 too: a rolled-back transaction can hand the same id to another form.
_mappings: dict[tuple[int, str], vocabulary.FormMapping] = {}


def form_mapping(version: FormVersion) -> vocabulary.FormMapping:
    """The mapping of a form version, read once per process for published versions."""
    key = (version.pk, version.md5)
    mapping = _mappings.get(key)
    if mapping is None:
        mapping = check_form(str(version), bytes(version.xml))
        if not version.is_draft:
            _mappings[key] = mapping
    return mapping
