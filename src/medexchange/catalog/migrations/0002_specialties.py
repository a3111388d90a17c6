"""Create the maintained list of specialties."""

from django.db import migrations


def create_specialties(apps, schema_editor):
    from medexchange.catalog.choices import SPECIALTIES

    Specialty = apps.get_model("catalog", "Specialty")
    for code, name in SPECIALTIES:
        Specialty.objects.update_or_create(code=code, defaults={"name": str(name)})


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(create_specialties, migrations.RunPython.noop)]
