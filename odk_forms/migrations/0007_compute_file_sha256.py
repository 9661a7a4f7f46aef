import hashlib
from pathlib import Path

from django.conf import settings
from django.db import migrations

CHUNK = 1024 * 1024


def _sha256(relative_name: str) -> str:
    """SHA-256 of a stored file, or "" when it cannot be read (then the row stays without one)."""
    digest = hashlib.sha256()
    try:
        with (Path(settings.MEDIA_ROOT) / relative_name).open("rb") as stored:
            for chunk in iter(lambda: stored.read(CHUNK), b""):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


def compute(apps, schema_editor):
    """Existing rows get the SHA-256 of their stored file, read once per file."""
    for model_name in ("Attachment", "MediaFile"):
        model = apps.get_model("odk_forms", model_name)
        digests: dict[str, str] = {}
        for row in model.objects.filter(sha256="").only("pk", "file").iterator():
            name = row.file.name
            if name not in digests:
                digests[name] = _sha256(name)
            if digests[name]:
                model.objects.filter(pk=row.pk).update(sha256=digests[name])


class Migration(migrations.Migration):
    dependencies = [("odk_forms", "0006_file_sha256")]

    operations = [migrations.RunPython(compute, migrations.RunPython.noop)]
