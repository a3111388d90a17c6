"""One searchable text column per opportunity, with one full-text index on PostgreSQL.

Searching the opportunity, its host and its specialty through three indexes meant a
UNION per word in every query of the search page; one column needs one condition.
"""

from django.db import migrations, models

INDEX = "catalog_opportunity_search_text"


def _index():
    from django.contrib.postgres.indexes import GinIndex

    from medexchange.catalog.search import search_text_document

    return GinIndex(search_text_document(), name=INDEX)


def fill_and_index(apps, schema_editor):
    from medexchange.catalog.models import compose_search_text

    Opportunity = apps.get_model("catalog", "Opportunity")
    batch = []
    for opportunity in Opportunity.objects.select_related("host", "specialty").iterator():
        opportunity.search_text = compose_search_text(
            title=opportunity.title,
            kind=opportunity.kind,
            summary=opportunity.summary,
            description=opportunity.description,
            specialty=opportunity.specialty.name,
            host_name=opportunity.host.name,
            host_city=opportunity.host.city,
        )
        batch.append(opportunity)
        if len(batch) == 1000:
            Opportunity.objects.bulk_update(batch, ["search_text"])
            batch = []
    Opportunity.objects.bulk_update(batch, ["search_text"])
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(Opportunity, _index())


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("catalog", "Opportunity"), _index())


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_saved_searches")]

    operations = [
        migrations.AddField(
            model_name="opportunity",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(fill_and_index, drop_index),
    ]
