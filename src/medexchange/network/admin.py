"""Back-office for staff; state changes go through the services so they are audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from medexchange.catalog.models import refresh_search_text
from medexchange.network import services
from medexchange.network.choices import MembershipStatus
from medexchange.network.models import (
    CountryProfile,
    Institution,
    JoinRequest,
    Membership,
    Network,
    Site,
)


@admin.register(CountryProfile)
class CountryProfileAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "region",
        "subregion",
        "income_group",
        "em_status",
        "em_recognised_year",
    ]
    list_filter = ["region", "income_group", "em_status"]
    search_fields = ["code"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        values = {name: form.cleaned_data[name] for name in form.changed_data if name != "code"}
        if change:
            services.country_profile_update(
                profile=CountryProfile.objects.get(pk=obj.pk), actor=request.user, values=values
            )
        else:
            super().save_model(request, obj, form, change)


@admin.register(Network)
class NetworkAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "scope", "region"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    readonly_fields = ["status"]


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "city", "country"]
    list_filter = ["kind", "country__region"]
    search_fields = ["name", "city", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [SiteInline, MembershipInline]
    list_select_related = ["country"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and {"name", "city"} & set(form.changed_data):
            refresh_search_text(obj.opportunities.all())


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "city", "institution"]
    list_filter = ["kind"]
    search_fields = ["name", "institution__name"]
    autocomplete_fields = ["institution"]


def _set_status(status: str) -> Any:
    def action(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        changed = 0
        for membership in queryset:
            try:
                services.membership_set_status(
                    membership=membership, status=status, actor=request.user
                )
                changed += 1
            except ValidationError as error:
                modeladmin.message_user(
                    request, f"{membership}: {error.messages[0]}", messages.ERROR
                )
        modeladmin.message_user(request, _("%(count)d memberships updated.") % {"count": changed})

    action.__name__ = f"mark_{status}"
    action.short_description = _("Mark as %(status)s") % {  # type: ignore[attr-defined]
        "status": MembershipStatus(status).label
    }
    return action


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["institution", "network", "status", "applied_on", "joined_on", "ended_on"]
    list_filter = ["network", "status"]
    search_fields = ["institution__name"]
    autocomplete_fields = ["institution"]
    readonly_fields = ["status"]
    actions = [_set_status(status) for status in MembershipStatus.values]


@admin.register(JoinRequest)
class JoinRequestAdmin(admin.ModelAdmin):
    list_display = ["institution_name", "network", "country", "status", "submitted_at"]
    list_filter = ["status", "network"]
    search_fields = ["institution_name", "contact_email"]
    readonly_fields = ["status", "decided_at", "decided_by", "institution", "submitted_at"]
