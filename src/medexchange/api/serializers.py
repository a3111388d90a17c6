"""Read-only representations of the public directory.

Field lists are explicit so that a new model field never leaks into the public API.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from medexchange.network.choices import MembershipStatus
from medexchange.network.models import CountryProfile, Institution, Membership, Network, Site


class CountrySerializer(serializers.ModelSerializer):
    """A country profile: the facts that drive priority."""

    # CountryField holds a Country object; publish its ISO code and English-or-active name.
    code = serializers.CharField(read_only=True, help_text="ISO 3166-1 alpha-2 code.")
    name = serializers.CharField(read_only=True)

    class Meta:
        model = CountryProfile
        fields = [
            "code",
            "name",
            "region",
            "subregion",
            "income_group",
            "em_status",
            "em_recognised_year",
        ]
        read_only_fields = fields


class CountrySummarySerializer(serializers.ModelSerializer):
    """The country of an institution: enough to label it without a second request."""

    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)

    class Meta:
        model = CountryProfile
        fields = ["code", "name"]
        read_only_fields = fields


class NetworkSerializer(serializers.ModelSerializer):
    """A network with its number of active members (annotated by the view's queryset)."""

    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Network
        fields = ["name", "slug", "scope", "region", "description", "website", "member_count"]
        read_only_fields = fields


class SiteSerializer(serializers.ModelSerializer):
    """Where participants work; only public facts, no address or coordinates yet."""

    class Meta:
        model = Site
        fields = ["name", "kind", "city"]
        read_only_fields = fields


class InstitutionSerializer(serializers.ModelSerializer):
    """An institution as listed in the directory."""

    country = CountrySummarySerializer(read_only=True)
    # Numbers, not the strings DRF gives decimals by default: map clients expect numbers.
    latitude = serializers.FloatField(read_only=True)
    longitude = serializers.FloatField(read_only=True)
    languages = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="ISO 639-1 codes."
    )
    networks = serializers.SerializerMethodField(
        help_text="Slugs of the networks it is an active member of."
    )
    url = serializers.SerializerMethodField(help_text="The institution's public page.")

    class Meta:
        model = Institution
        fields = [
            "name",
            "slug",
            "kind",
            "country",
            "city",
            "address",
            "latitude",
            "longitude",
            "languages",
            "website",
            "description",
            "networks",
            "url",
        ]
        read_only_fields = fields

    def get_networks(self, obj: Institution) -> list[str]:
        # The view prefetches active memberships into ``active_memberships``; the
        # fallback query only runs if a caller forgot, so output is right either way.
        memberships: Any = getattr(obj, "active_memberships", None)
        if memberships is None:
            memberships = Membership.objects.filter(
                institution=obj, status=MembershipStatus.ACTIVE
            ).select_related("network")
        return sorted(membership.network.slug for membership in memberships)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj: Institution) -> str:
        path = obj.get_absolute_url()
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class InstitutionDetailSerializer(InstitutionSerializer):
    """An institution with its sites: only the detail pays for loading them."""

    sites = SiteSerializer(many=True, read_only=True)

    class Meta(InstitutionSerializer.Meta):
        fields = [*InstitutionSerializer.Meta.fields, "sites"]
        read_only_fields = fields
