"""The forms app's system checks: Java for ODK Validate, fsync, and every ODK_FORMS_* hook
imported at start-up."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from odk_forms import checks


def test_the_configured_hooks_import():
    assert checks.check_hooks() == []


@pytest.mark.parametrize(
    "name, value",
    [
        ("ODK_FORMS_RECEIPT_HOOKS", ["enforcement.evidence.record_reciept"]),
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


def test_java_missing_is_a_warning_while_validation_is_on(settings):
    with mock.patch("odk_forms.checks.shutil.which", return_value=None):
        assert [w.id for w in checks.check_odk_validate()] == ["odk_forms.W001"]
        settings.ODK_FORMS_VALIDATE = False
        assert checks.check_odk_validate() == []


def test_fsync_off_is_a_deployment_warning(settings):
    assert checks.check_fsync() == []
    settings.ODK_FORMS_FSYNC = False
    assert [w.id for w in checks.check_fsync()] == ["odk_forms.W002"]
