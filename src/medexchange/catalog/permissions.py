"""Who manages which catalog."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from medexchange.network.models import Institution


def catalog_hosts(user: Any) -> QuerySet[Institution]:
    """The institutions whose catalog ``user`` manages: the ones they coordinate.

    The same rule as ``Opportunity.objects.editable_by``: network staff look after
    institutions, not their catalog; platform superusers manage every catalog.
    """
    if not user.is_authenticated:
        return Institution.objects.none()
    if user.is_superuser:
        return Institution.objects.all()
    return Institution.objects.filter(pk__in=user.coordinated_institution_ids())
