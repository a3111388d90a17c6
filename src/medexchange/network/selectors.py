"""Reads of the network directory, shaped for pages and the map."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson
from django.db.models import Count, FloatField, Prefetch, Q, QuerySet
from django.db.models.functions import Cast
from django.urls import reverse

from medexchange.network.choices import MembershipStatus
from medexchange.network.models import Institution, Membership, Network


def active_memberships_prefetch() -> Prefetch[Any]:
    return Prefetch(
        "memberships",
        queryset=Membership.objects.filter(status=MembershipStatus.ACTIVE).select_related(
            "network"
        ),
        to_attr="active_memberships",
    )


def directory_queryset(user: Any) -> QuerySet[Institution]:
    """Members visible to ``user`` with what a directory row shows, in a fixed number of queries."""
    return (
        Institution.objects.visible_to(user)
        .members()
        .select_related("country")
        .prefetch_related(active_memberships_prefetch())
        .order_by("name", "pk")
    )


def networks_with_member_counts() -> QuerySet[Network]:
    return Network.objects.annotate(
        member_count=Count("memberships", filter=Q(memberships__status=MembershipStatus.ACTIVE))
    ).order_by("scope", "name")


def member_country_codes() -> list[str]:
    return list(
        Institution.objects.members().order_by().values_list("country__code", flat=True).distinct()
    )


def network_stats() -> dict[str, Any]:
    members = Institution.objects.members()
    return {
        "institutions": members.count(),
        "countries": members.values("country").distinct().count(),
        "networks": Network.objects.count(),
    }


def map_feature_collection(institutions: QuerySet[Institution]) -> bytes:
    """GeoJSON of ``institutions`` in three small queries, without model instances.

    The whole map is one download for slow connections, so this is kept lean:
    coordinates come back as floats from the database and memberships as id pairs.
    """
    rows = list(
        institutions.order_by("name", "pk")
        .annotate(lat=Cast("latitude", FloatField()), lon=Cast("longitude", FloatField()))
        .values_list("pk", "slug", "name", "kind", "city", "country__code", "lat", "lon")
    )
    network_slugs = dict(Network.objects.values_list("pk", "slug"))
    networks_of: dict[int, list[str]] = defaultdict(list)
    for institution_id, network_id in (
        Membership.objects.filter(status=MembershipStatus.ACTIVE)
        .order_by()
        .values_list("institution_id", "network_id")
        .iterator(chunk_size=5000)
    ):
        networks_of[institution_id].append(network_slugs[network_id])
    url_prefix = reverse("network:institution", kwargs={"slug": "x"})[:-2]
    features = [
        {
            "type": "Feature",
            "id": slug,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {
                "name": name,
                "kind": kind,
                "city": city,
                "country": country,
                "networks": sorted(networks_of.get(pk, ())),
                "url": f"{url_prefix}{slug}/",
            },
        }
        for pk, slug, name, kind, city, country, lat, lon in rows
    ]
    return orjson.dumps({"type": "FeatureCollection", "features": features})
