"""Back-office views of rotation plans: read-only, since every change goes through services.

Settings, cells and solves are validated by the engine and audited by ``services``; an
admin edit would bypass both. Staff read here and act on the site.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from medexchange.scheduling.models import (
    AbsenceReport,
    PlanPublication,
    PlanSite,
    PlanSolve,
    RotationPlan,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PlanSiteInline(admin.TabularInline):
    model = PlanSite
    fields = ["site", "short_name", "capacity", "capacity_per_period", "min_staff", "closed"]
    readonly_fields = (
        "site",
        "short_name",
        "capacity",
        "capacity_per_period",
        "min_staff",
        "closed",
    )
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RotationPlan)
class RotationPlanAdmin(ReadOnlyAdmin):
    list_display = ["pk", "session", "unit", "period_count", "status", "published_at"]
    list_filter = ["status", "unit"]
    list_select_related = ["session__opportunity"]
    exclude = ["published_assignment"]
    inlines = [PlanSiteInline]


@admin.register(PlanSolve)
class PlanSolveAdmin(ReadOnlyAdmin):
    list_display = ["pk", "plan", "status", "outcome", "progress", "gap", "seconds", "created_at"]
    list_filter = ["status", "outcome"]
    list_select_related = ["plan__session__opportunity"]
    exclude = ["input_json", "result_json"]


@admin.register(PlanPublication)
class PlanPublicationAdmin(ReadOnlyAdmin):
    list_display = ["pk", "plan", "version", "published_at", "published_by", "notified"]
    list_select_related = ["plan__session__opportunity", "published_by"]
    exclude = ["assignment"]


@admin.register(AbsenceReport)
class AbsenceReportAdmin(ReadOnlyAdmin):
    list_display = ["pk", "plan", "participant", "kind", "day", "status", "reported_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["plan__session__opportunity", "participant"]
    exclude = ["base"]
