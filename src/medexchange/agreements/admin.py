"""Back-office views of agreements: read-only; every change goes through ``services``
(status flow, audit, notifications, quota rules)."""

from django.contrib import admin

from medexchange.agreements.models import Agreement, Quota
from medexchange.applications.admin import ReadOnlyAdmin


class QuotaInline(admin.TabularInline):
    model = Quota
    extra = 0
    can_delete = False
    readonly_fields = ["sender", "host", "academic_year", "level", "specialty", "amount"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyAdmin):
    list_display = ["title", "status", "party_a", "party_b", "network", "first_year", "last_year"]
    list_filter = ["status", "unit", "tuition_waiver"]
    search_fields = ["title", "party_a__name", "party_b__name", "network__name"]
    list_select_related = ["party_a", "party_b", "network"]
    inlines = [QuotaInline]
