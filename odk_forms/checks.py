"""System checks of the forms app: problems that would otherwise show up only when the
first form is published or the first record is lost."""

from __future__ import annotations

import shutil
from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


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
