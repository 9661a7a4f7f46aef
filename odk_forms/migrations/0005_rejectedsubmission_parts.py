"""RejectedSubmission keeps, for each part, the names it was sent under and its stored file
(`parts`) instead of the sanitised names alone (`part_names`), so that receiving it again
links the files to the XML as the first attempt did. A submission without an XML part is
kept too: `xml_file` may be empty."""

from django.db import migrations, models


def names_to_parts(apps, schema_editor):
    RejectedSubmission = apps.get_model("odk_forms", "RejectedSubmission")
    for rejected in RejectedSubmission.objects.exclude(parts=[]).iterator():
        # Before, each part was stored under its sanitised name in parts_dir.
        rejected.parts = [
            {"name": name, "filename": name, "file": f"{rejected.parts_dir}/{name}"}
            for name in rejected.parts
            if isinstance(name, str)
        ]
        rejected.save(update_fields=["parts"])


def parts_to_names(apps, schema_editor):
    RejectedSubmission = apps.get_model("odk_forms", "RejectedSubmission")
    for rejected in RejectedSubmission.objects.exclude(parts=[]).iterator():
        rejected.parts = [part["file"].rsplit("/", 1)[-1] for part in rejected.parts if isinstance(part, dict)]
        rejected.save(update_fields=["parts"])


class Migration(migrations.Migration):
    dependencies = [
        ("odk_forms", "0004_submission_lease"),
    ]

    operations = [
        migrations.RenameField(model_name="rejectedsubmission", old_name="part_names", new_name="parts"),
        migrations.AlterField(
            model_name="rejectedsubmission",
            name="xml_file",
            field=models.FileField(blank=True, max_length=500, upload_to=""),
        ),
        migrations.RunPython(names_to_parts, parts_to_names),
    ]
