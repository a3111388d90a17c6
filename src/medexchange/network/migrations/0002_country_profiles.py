"""Create a profile for every ISO country, with its region."""

from django.db import migrations


def create_country_profiles(apps, schema_editor):
    from django_countries import countries

    from medexchange.network.geodata import country_regions

    CountryProfile = apps.get_model("network", "CountryProfile")
    regions = country_regions()
    existing = set(CountryProfile.objects.values_list("code", flat=True))
    CountryProfile.objects.bulk_create(
        CountryProfile(
            code=code,
            region=regions.get(code, {}).get("region", ""),
            subregion=regions.get(code, {}).get("subregion", ""),
        )
        for code in countries.countries
        if code not in existing
    )


class Migration(migrations.Migration):
    dependencies = [("network", "0001_initial")]

    operations = [migrations.RunPython(create_country_profiles, migrations.RunPython.noop)]
