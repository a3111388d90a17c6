"""Back-office views of scholarships: read-only; every change goes through ``services``
(status flow, eligibility, the funds' ledger, audit, notifications)."""

from django.contrib import admin

from medexchange.applications.admin import ReadOnlyAdmin
from medexchange.scholarships.models import (
    AllocationRun,
    Award,
    RequestReview,
    ScholarshipCall,
    ScholarshipRequest,
)


@admin.register(ScholarshipCall)
class ScholarshipCallAdmin(ReadOnlyAdmin):
    list_display = ["title", "network", "status", "currency", "opens_at", "closes_at"]
    list_filter = ["status", "currency"]
    search_fields = ["title", "network__name"]
    list_select_related = ["network"]


class RequestReviewInline(admin.TabularInline):
    model = RequestReview
    extra = 0
    can_delete = False
    readonly_fields = ["reviewer", "score", "comment", "updated_at"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(ScholarshipRequest)
class ScholarshipRequestAdmin(ReadOnlyAdmin):
    list_display = ["pk", "call", "application", "amount", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["call__title", "application__applicant__email"]
    list_select_related = ["call", "application__applicant", "application__session__opportunity"]
    inlines = [RequestReviewInline]


@admin.register(AllocationRun)
class AllocationRunAdmin(ReadOnlyAdmin):
    list_display = ["pk", "call", "status", "objective", "bound", "created_at"]
    list_filter = ["status"]
    list_select_related = ["call"]


@admin.register(Award)
class AwardAdmin(ReadOnlyAdmin):
    list_display = ["pk", "request", "amount", "currency", "status", "committed_at"]
    list_filter = ["status", "currency"]
    list_select_related = ["request__call"]
