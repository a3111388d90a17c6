"""The catalog's search engine: one interface, two implementations.

``search_opportunities(queryset, text)`` keeps the opportunities of ``queryset`` that
match ``text`` and annotates each with a ``rank`` (higher is more relevant).

A query is split into words (letters and digits; punctuation is dropped). An
opportunity matches when **every word** appears in one of: its title, kind, summary,
description, specialty name, host name or host city. The two databases agree on
that set for queries made of whole words (``tests/catalog/test_search_engine.py``).

PostgreSQL
    Full-text search with the ``simple`` configuration: lower-cased whole words, no
    stemming and no stop words. The opportunities are written in many languages and
    no column records which, so a language-aware configuration would stem a Spanish
    description with English rules; ``simple`` is predictable in every language and
    gives the same words as the SQLite fallback. (Once opportunities record their
    language, ``to_tsvector`` can take a per-row configuration.)

    The words are matched against one column, ``Opportunity.search_text`` (title, kind,
    summary, description, specialty name, host name and city; kept current when an
    opportunity is saved or its host renamed), through one GIN index
    (``catalog_opportunity_search_text``, migration 0005). One indexed condition keeps
    the search page's facet query and its page of results cheap. (Migration 0003's
    per-table indexes came first and were dropped in 0007; its trigram ones are used by
    the fallback below. The GIN indexes read here have ``fastupdate`` off, 0007.)

    The relevance ``rank`` is ``ts_rank`` over the full weighted vector — title A,
    specialty and kind B, summary, host name and city C, description D — computed
    only for the rows that matched.

    When no opportunity contains every word, the search falls back to trigram word
    similarity of the whole query against titles and host names (GIN trigram
    indexes), so "Nairbi Shool of Medecine" still finds the Nairobi school. Only
    as a fallback: exact-word queries then give the same set as on SQLite. The two
    look-ups give one set of ids (a ``UNION``), so each uses its index.

SQLite (and any other database)
    An honest simpler fallback: each word must appear (``icontains``, so also inside
    longer words) in one of the same fields; the rank adds simple weights per field
    in which each word appears (title 1.0, specialty and kind 0.4, summary, host
    and city 0.2, description 0.1 — PostgreSQL's default weights). No fuzzy matching.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    TrigramWordSimilarity,
)
from django.db import connections
from django.db.models import Case, FloatField, Q, QuerySet, Value, When
from django.db.models.functions import Greatest

from medexchange.catalog.models import Opportunity
from medexchange.network.models import Institution

#: The text search configuration, see the module documentation.
CONFIG = "simple"
#: At most this many words of a query are used.
MAX_WORDS = 8

_WORD = re.compile(r"\w+", re.UNICODE)

# Weights of the SQLite fallback, PostgreSQL's defaults for A, B, C and D.
_FALLBACK_FIELDS: list[tuple[str, float]] = [
    ("title", 1.0),
    ("kind", 0.4),
    ("specialty__name", 0.4),
    ("summary", 0.2),
    ("host__name", 0.2),
    ("host__city", 0.2),
    ("description", 0.1),
]


def words_of(text: str) -> list[str]:
    """The words of a query, lower-cased, without repeats, at most ``MAX_WORDS``."""
    words: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word not in words:
            words.append(word)
    return words[:MAX_WORDS]


# The indexed expressions. Migration 0003 builds its indexes from the same functions,
# so the expressions cannot drift apart (a test checks the planner uses them).


def opportunity_document() -> Any:
    """The opportunity's own weighted text: what migration 0003's (since dropped, 0007)
    ``catalog_opportunity_search`` index held; kept for those migrations."""
    return (
        SearchVector("title", weight="A", config=CONFIG)
        + SearchVector("kind", weight="B", config=CONFIG)
        + SearchVector("summary", weight="C", config=CONFIG)
        + SearchVector("description", weight="D", config=CONFIG)
    )


def institution_document() -> SearchVector:
    """A host's name and city: what migration 0003's (since dropped, 0007)
    ``catalog_institution_search`` index held; kept for those migrations."""
    return SearchVector("name", "city", config=CONFIG)


def search_text_document() -> SearchVector:
    """The opportunity's ``search_text``: what the ``catalog_opportunity_search_text`` index
    holds (opportunity, specialty and host words in one column)."""
    return SearchVector("search_text", config=CONFIG)


def specialty_document() -> SearchVector:
    return SearchVector("name", config=CONFIG)


def full_document() -> Any:
    """Everything searched, weighted, across the joins: used for ranking only."""
    return (
        SearchVector("title", weight="A", config=CONFIG)
        + SearchVector("specialty__name", "kind", weight="B", config=CONFIG)
        + SearchVector("summary", "host__name", "host__city", weight="C", config=CONFIG)
        + SearchVector("description", weight="D", config=CONFIG)
    )


def is_postgresql(queryset: QuerySet[Any]) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def search_opportunities(queryset: QuerySet[Opportunity], text: str) -> QuerySet[Opportunity]:
    """Opportunities of ``queryset`` matching ``text``, annotated with ``rank``.

    An empty query (or one without words) keeps everything with a rank of 0.
    """
    words = words_of(text)
    if not words:
        return queryset.annotate(rank=Value(0.0, output_field=FloatField()))
    if is_postgresql(queryset):
        return _postgresql(queryset, words, text)
    return _fallback(queryset, words)


def _postgresql(
    queryset: QuerySet[Opportunity], words: list[str], text: str
) -> QuerySet[Opportunity]:
    # Every word must appear: plainto_tsquery joins the words with AND, and the one
    # condition is answered by the ``catalog_opportunity_search_text`` index.
    everything = SearchQuery(" ".join(words), search_type="plain", config=CONFIG)
    matched = queryset.annotate(search_document=search_text_document()).filter(
        search_document=everything
    )
    # One small query decides between exact words and the fuzzy fallback.
    if matched.exists():
        return matched.annotate(rank=SearchRank(full_document(), everything))
    phrase = " ".join(words)
    # One set of ids from two index look-ups (titles; hosts' names, then their
    # opportunities), not ``title %> … OR host IN (…)``, which only a scan of every
    # opportunity can answer.
    similar_hosts = Institution.objects.filter(name__trigram_word_similar=phrase).values("pk")
    similar = (
        Opportunity.objects.filter(title__trigram_word_similar=phrase)
        .order_by()
        .values("pk")
        .union(Opportunity.objects.filter(host_id__in=similar_hosts).order_by().values("pk"))
    )
    return queryset.filter(pk__in=similar).annotate(
        rank=Greatest(
            TrigramWordSimilarity(phrase, "title"),
            TrigramWordSimilarity(phrase, "host__name"),
        )
    )


def _fallback(queryset: QuerySet[Opportunity], words: list[str]) -> QuerySet[Opportunity]:
    condition = Q()
    rank: Any = Value(0.0, output_field=FloatField())
    for word in words:
        condition &= Q(search_text__icontains=word)
        for field, weight in _FALLBACK_FIELDS:
            rank = rank + Case(
                When(Q(**{f"{field}__icontains": word}), then=Value(weight)),
                default=Value(0.0),
                output_field=FloatField(),
            )
    return queryset.filter(condition).annotate(rank=rank)
