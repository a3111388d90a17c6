"""One set of institution filters shared by the directory, the map and the API."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from medexchange.network.choices import InstitutionKind, MembershipStatus, Region
from medexchange.network.models import Institution, Membership, Network


class InstitutionFilter(django_filters.FilterSet):
    """Filters by free text, country, region, network and kind.

    ``network`` and ``kind`` accept several values (the map ticks several);
    an institution matches when it is an active member of any chosen network.
    Malformed values become field errors, never server errors.
    """

    q = django_filters.CharFilter(
        label=_("Search"), method="filter_text", max_length=100, help_text=_("Name or city")
    )
    country = django_filters.ChoiceFilter(
        label=_("Country"),
        field_name="country__code",
        # A callable, so country names follow the language of each request.
        choices=lambda: list(countries),
        empty_label=_("Any"),
    )
    region = django_filters.ChoiceFilter(
        label=_("Region"),
        field_name="country__region",
        choices=Region.choices,
        empty_label=_("Any"),
    )
    network = django_filters.ModelMultipleChoiceFilter(
        label=_("Network"),
        queryset=Network.objects.all(),
        to_field_name="slug",
        method="filter_network",
    )
    kind = django_filters.MultipleChoiceFilter(label=_("Kind"), choices=InstitutionKind.choices)

    class Meta:
        model = Institution
        fields = ["q", "country", "region", "network", "kind"]

    def filter_text(self, queryset: QuerySet[Institution], name: str, value: str) -> Any:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(city__icontains=value))

    def filter_network(
        self, queryset: QuerySet[Institution], name: str, value: list[Network]
    ) -> Any:
        if not value:
            return queryset
        return queryset.filter(
            pk__in=Membership.objects.filter(
                network__in=value, status=MembershipStatus.ACTIVE
            ).values("institution_id")
        )
