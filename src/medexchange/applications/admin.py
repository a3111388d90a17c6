"""Back-office views of applications: read-only, since every change goes through services.

The state machine, seat locking, audit and notifications live in ``services``; an admin
edit would bypass all four. Staff read here and act on the site's pages.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from medexchange.applications.models import (
    Application,
    Letter,
    LetterTemplate,
    Placement,
    ReviewCriterion,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ["pk", "applicant", "session", "state", "submitted_at", "decided_at"]
    list_filter = ["state", "endorsement_required"]
    search_fields = ["applicant__email", "applicant__full_name", "session__opportunity__title"]
    list_select_related = ["applicant", "session__opportunity"]
    date_hierarchy = "created_at"


@admin.register(Placement)
class PlacementAdmin(ReadOnlyAdmin):
    list_display = ["application", "session", "created_at", "released_at"]
    list_select_related = ["application__applicant", "session__opportunity"]


@admin.register(ReviewCriterion)
class ReviewCriterionAdmin(ReadOnlyAdmin):
    list_display = ["name", "opportunity", "weight", "max_score"]
    list_select_related = ["opportunity"]


@admin.register(LetterTemplate)
class LetterTemplateAdmin(ReadOnlyAdmin):
    list_display = ["institution", "kind", "signatory_name", "updated_at"]


@admin.register(Letter)
class LetterAdmin(ReadOnlyAdmin):
    list_display = ["verification_code", "kind", "holder_name", "host_name", "issued_at"]
    search_fields = ["verification_code", "holder_name"]
