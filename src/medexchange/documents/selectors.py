"""Reads of the vault for other apps: the applicant's documents, a referee's link."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from medexchange.documents.models import (
    Document,
    DocumentQuerySet,
    DocumentVersion,
    RefereeRequest,
    hash_token,
)


def vault_for(user: Any) -> DocumentQuerySet:
    """The owner's documents with their versions (newest first, so ``current_version``
    needs no query) and, for referee letters, the request they answered.

    For the application form's checklist: ``document.current_version`` is what an
    application attaches; ``services.document_check_for(document, until=…)`` says why a
    document will not do.
    """
    return (
        Document.objects.visible_to(user)
        .select_related("referee_request")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=DocumentVersion.objects.select_related("uploaded_by").order_by("-number"),
            )
        )
        .order_by("kind", "title", "pk")
    )


def referee_request_for_token(token: str) -> RefereeRequest | None:
    """The request a one-time link belongs to, open or not; None for an unknown token."""
    if not token or len(token) > 100:
        return None
    return (
        RefereeRequest.objects.select_related("applicant")
        .filter(token_hash=hash_token(token))
        .first()
    )
