"""Search indexes for PostgreSQL: full text (GIN on tsvector) and trigrams (pg_trgm).

A no-op on other databases. The indexes are built from the expressions in
``medexchange.catalog.search`` so the queries and the indexes stay identical; they are
not in the models' Meta because they only exist on PostgreSQL.
"""

from django.db import migrations

OPPORTUNITY_INDEX = "catalog_opportunity_search"
OPPORTUNITY_TITLE_TRGM = "catalog_opportunity_title_trgm"
INSTITUTION_INDEX = "catalog_institution_search"
INSTITUTION_NAME_TRGM = "catalog_institution_name_trgm"


def _indexes():
    from django.contrib.postgres.indexes import GinIndex, OpClass

    from medexchange.catalog.search import institution_document, opportunity_document

    return [
        ("catalog", "Opportunity", GinIndex(opportunity_document(), name=OPPORTUNITY_INDEX)),
        (
            "catalog",
            "Opportunity",
            GinIndex(OpClass("title", name="gin_trgm_ops"), name=OPPORTUNITY_TITLE_TRGM),
        ),
        ("network", "Institution", GinIndex(institution_document(), name=INSTITUTION_INDEX)),
        (
            "network",
            "Institution",
            GinIndex(OpClass("name", name="gin_trgm_ops"), name=INSTITUTION_NAME_TRGM),
        ),
    ]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for app_label, model_name, index in _indexes():
        schema_editor.add_index(apps.get_model(app_label, model_name), index)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app_label, model_name, index in _indexes():
        schema_editor.remove_index(apps.get_model(app_label, model_name), index)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_specialties"),
        ("network", "0003_institution_time_zone"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
