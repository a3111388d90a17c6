"""Back-office views of the vault: read-mostly, and never a link to a file.

Files are only reachable through ``documents:download``, which checks permission and logs
the access; the admin shows metadata (names, sizes, checksums, who opened what).
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from medexchange.documents.models import Document, DocumentAccess, DocumentVersion, RefereeRequest

VERSION_FIELDS = (
    "document",
    "number",
    "original_name",
    "content_type",
    "size",
    "sha256",
    "uploaded_at",
    "uploaded_by",
)
REFEREE_REQUEST_FIELDS = (
    "applicant",
    "referee_name",
    "referee_email",
    "message",
    "created_at",
    "sent_at",
    "expires_at",
    "used_at",
    "cancelled_at",
    "document",
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Writes go through the services (audited); the admin only looks."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DocumentVersionInline(admin.TabularInline):
    model = DocumentVersion
    extra = 0
    can_delete = False
    fields = ["number", "original_name", "content_type", "size", "sha256", "uploaded_at"]
    readonly_fields = ["number", "original_name", "content_type", "size", "sha256", "uploaded_at"]
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "owner", "issued_on", "expires_on", "is_confidential"]
    list_filter = ["kind", "is_confidential"]
    search_fields = ["title", "owner__email"]
    list_select_related = ["owner"]
    readonly_fields = [
        "owner",
        "kind",
        "title",
        "issued_on",
        "expires_on",
        "is_confidential",
        "created_at",
        "updated_at",
        "deleted_at",
    ]
    inlines = [DocumentVersionInline]


@admin.register(DocumentVersion)
class DocumentVersionAdmin(ReadOnlyAdmin):
    list_display = ["document", "number", "original_name", "content_type", "size", "uploaded_at"]
    list_filter = ["content_type"]
    search_fields = ["document__title", "original_name", "sha256"]
    list_select_related = ["document"]
    # storage_name is left out on purpose: it is the file's address in the storage.
    fields = VERSION_FIELDS
    readonly_fields = VERSION_FIELDS


@admin.register(DocumentAccess)
class DocumentAccessAdmin(ReadOnlyAdmin):
    list_display = ["accessed_at", "user", "version", "ip", "inline"]
    date_hierarchy = "accessed_at"
    search_fields = ["user__email", "version__document__title"]
    list_select_related = ["user", "version__document"]
    readonly_fields = ["version", "user", "accessed_at", "ip", "inline"]


@admin.register(RefereeRequest)
class RefereeRequestAdmin(ReadOnlyAdmin):
    list_display = ["referee_name", "referee_email", "applicant", "created_at", "used_at"]
    search_fields = ["referee_name", "referee_email", "applicant__email"]
    list_select_related = ["applicant"]
    # token_hash is left out: nothing to read in it, and no reason to show it.
    fields = REFEREE_REQUEST_FIELDS
    readonly_fields = REFEREE_REQUEST_FIELDS
