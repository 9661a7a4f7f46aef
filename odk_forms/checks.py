"""System checks of the forms app: problems that would otherwise show up only when the
first form is published or the first record is lost."""

from __future__ import annotations

import shutil
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string


@register(Tags.compatibility)
def check_odk_validate(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    if settings.ODK_FORMS_VALIDATE and shutil.which("java") is None:
        return [
            Warning(
                "ODK_FORMS_VALIDATE is on but there is no `java` on PATH: publishing forms will fail.",
                hint="Install a Java runtime (17+), or set ODK_FORMS_VALIDATE=false to skip the check.",
                id="odk_forms.W001",
            )
        ]
    return []


@register(Tags.compatibility, deploy=True)
def check_fsync(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    if not settings.ODK_FORMS_FSYNC:
        return [
            Warning(
                "ODK_FORMS_FSYNC is off: a power cut can lose submissions the phones were told were saved.",
                hint="Leave it on in production.",
                id="odk_forms.W002",
            )
        ]
    return []


# Settings that name code by dotted path: a typo would otherwise fail every submission, every
# publication or every download of a form's media, at run time.
HOOK_SETTINGS = (
    "ODK_FORMS_RECEIPT_HOOKS",
    "ODK_FORMS_SUBMISSION_PROCESSORS",
    "ODK_FORMS_FORM_CHECKS",
    "ODK_FORMS_USER_MEDIA",
)


@register(Tags.compatibility)
def check_hooks(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Import every dotted path of the ODK_FORMS_* hook settings at start-up."""
    found: list[Error] = []
    for name in HOOK_SETTINGS:
        value = getattr(settings, name, ())
        paths = list(value.values()) if isinstance(value, dict) else list(value)
        for path in paths:
            try:
                hook = import_string(path)
            except ImportError as exc:
                found.append(
                    Error(
                        f"{name} names {path!r}, which cannot be imported: {exc}",
                        hint="Give the dotted path of a callable (module.function).",
                        id="odk_forms.E001",
                    )
                )
                continue
            if not callable(hook):
                found.append(Error(f"{name} names {path!r}, which is not callable.", id="odk_forms.E002"))
    return found
