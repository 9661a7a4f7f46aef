"""The forms app's system checks: every ODK_FORMS_* hook is imported at start-up."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from odk_forms import checks


def test_the_configured_hooks_import():
    assert checks.check_hooks() == []


@pytest.mark.parametrize(
    "name, value",
    [
        ("ODK_FORMS_SUBMISSION_PROCESSORS", ["observations.records.record_submision"]),
        ("ODK_FORMS_FORM_CHECKS", ["observations.no_such_module.check_form"]),
        ("ODK_FORMS_USER_MEDIA", {"areas.csv": "standard_forms.install.areas_csv_for"}),
    ],
)
def test_a_typo_in_a_hook_is_an_error(settings, name, value):
    setattr(settings, name, value)
    errors = checks.check_hooks()
    assert [e.id for e in errors] == ["odk_forms.E001"]
    assert name in errors[0].msg


def test_a_hook_that_is_not_callable_is_an_error(settings):
    settings.ODK_FORMS_FORM_CHECKS = ["observations.records.MAX_SPEED_KMH"]
    assert [e.id for e in checks.check_hooks()] == ["odk_forms.E002"]


def test_manage_py_stops_on_a_typo(settings):
    settings.ODK_FORMS_SUBMISSION_PROCESSORS = ["observations.record.record_submission"]
    with pytest.raises(SystemCheckError, match="odk_forms.E001"):
        call_command("check")
