"""Search indexes on PostgreSQL: drop the unused ones, keep the used ones always current.

- Migration 0003's full-text indexes on the opportunity's own text and on the hosts'
  names are not used since 0005 (one ``search_text`` column, one index): dropped, so
  writes no longer maintain them.
- The GIN indexes the search reads (``search_text``, and the trigram ones of titles and
  host names) get ``fastupdate = off``. With it on, new entries wait in a pending list
  that every search scans linearly until (auto)vacuum merges it; after a bulk import a
  text search took several times longer. Opportunities are written rarely and one at a
  time, so inserting straight into the index costs little.

A no-op on other databases.
"""

from django.db import migrations

UNUSED = {
    "catalog_opportunity_search": "opportunity_document",
    "catalog_institution_search": "institution_document",
}
READ = [
    "catalog_opportunity_search_text",
    "catalog_opportunity_title_trgm",
    "catalog_institution_name_trgm",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in UNUSED:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    for name in READ:
        schema_editor.execute(f"ALTER INDEX {name} SET (fastupdate = off)")
        # Entries already pending stay pending until merged: merge them now.
        schema_editor.execute(f"SELECT gin_clean_pending_list('{name}'::regclass)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.contrib.postgres.indexes import GinIndex

    from medexchange.catalog import search

    for name in READ:
        schema_editor.execute(f"ALTER INDEX {name} RESET (fastupdate)")
    models = {
        "catalog_opportunity_search": apps.get_model("catalog", "Opportunity"),
        "catalog_institution_search": apps.get_model("network", "Institution"),
    }
    for name, document in UNUSED.items():
        index = GinIndex(getattr(search, document)(), name=name)
        schema_editor.add_index(models[name], index)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_opportunity_endorsement_required"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
