from django.db import migrations, models

# Every existing place and segment takes the day of its observation or leg-day.
FILL = [
    """UPDATE observations_tracksegment SET day = (
        SELECT d.day FROM observations_patrollegday d WHERE d.id = observations_tracksegment.leg_day_id)""",
    """UPDATE observations_observationplace SET day = (
        SELECT o.day FROM observations_observation o WHERE o.id = observations_observationplace.observation_id)""",
]


class Migration(migrations.Migration):

    dependencies = [
        ("observations", "0006_observation_day_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="tracksegment",
            name="day",
            field=models.DateField(null=True),
        ),
        migrations.AddField(
            model_name="observationplace",
            name="day",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.RunSQL(FILL, reverse_sql=migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="tracksegment",
            name="day",
            field=models.DateField(),
        ),
        migrations.AddIndex(
            model_name="tracksegment",
            index=models.Index(fields=["area", "day"], name="tracksegment_area_day_idx"),
        ),
        migrations.AddIndex(
            model_name="observationplace",
            index=models.Index(fields=["area", "day"], name="observationplace_area_day_idx"),
        ),
        migrations.RemoveIndex(
            model_name="observation",
            name="observation_day_idx",
        ),
    ]
