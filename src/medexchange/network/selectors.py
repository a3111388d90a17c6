"""Reads of the network directory, shaped for pages and the map."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
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


def network_stats() -> dict[str, Any]:
    members = Institution.objects.members()
    return {
        "institutions": members.count(),
        "countries": members.values("country").distinct().count(),
        "networks": Network.objects.count(),
    }


def map_feature_collection(institutions: QuerySet[Institution]) -> bytes:
    """GeoJSON of ``institutions`` in two queries, built without model instances for speed."""
    rows = list(
        institutions.order_by().values_list(
            "pk", "slug", "name", "kind", "city", "country__code", "latitude", "longitude"
        )
    )
    networks_of: dict[int, list[str]] = defaultdict(list)
    for institution_id, slug in (
        Membership.objects.filter(
            status=MembershipStatus.ACTIVE, institution_id__in=[row[0] for row in rows]
        )
        if len(rows) < 900
        else Membership.objects.filter(status=MembershipStatus.ACTIVE)
    ).values_list("institution_id", "network__slug"):
        networks_of[institution_id].append(slug)
    url_prefix = reverse("network:institution", kwargs={"slug": "x"})[:-2]
    features = [
        {
            "type": "Feature",
            "id": slug,
            "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
            "properties": {
                "name": name,
                "kind": kind,
                "city": city,
                "country": country,
                "networks": sorted(networks_of.get(pk, [])),
                "url": f"{url_prefix}{slug}/",
            },
        }
        for pk, slug, name, kind, city, country, lat, lon in sorted(rows, key=lambda r: r[2])
    ]
    return json.dumps(
        {"type": "FeatureCollection", "features": features},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
