import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count


def count_existing_channels(apps, schema_editor):  # type: ignore[no-untyped-def]
    """One counter row per application, starting from what it holds now."""
    Application = apps.get_model("channels_app", "Application")
    ApplicationCounters = apps.get_model("channels_app", "ApplicationCounters")
    ApplicationCounters.objects.bulk_create(
        ApplicationCounters(application_id=row["pk"], channels=row["n"])
        for row in Application.objects.annotate(n=Count("channels")).values("pk", "n")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("channels_app", "0002_bench_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="ApplicationCounters",
            fields=[
                (
                    "application",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="counters",
                        serialize=False,
                        to="channels_app.application",
                    ),
                ),
                ("channels", models.BigIntegerField(default=0)),
            ],
            options={
                "verbose_name_plural": "application counters",
            },
        ),
        migrations.RunPython(count_existing_channels, migrations.RunPython.noop),
    ]
