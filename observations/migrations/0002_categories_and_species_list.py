from django.db import migrations


def load(apps, schema_editor):
    from observations import reference

    reference.sync_categories(apps.get_model("observations", "Category"))
    reference.sync_taxa(apps.get_model("observations", "Taxon"))


class Migration(migrations.Migration):
    dependencies = [("observations", "0001_patrols_observations_mett_budgets")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
