from django.contrib import admin

from medexchange.common.models import AuditEntry, Notification


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "target_repr", "from_state", "to_state", "actor"]
    list_filter = ["action"]
    search_fields = ["action", "target_repr", "reason"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in AuditEntry._meta.get_fields()]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "message", "read_at"]
    search_fields = ["user__email", "message"]
    autocomplete_fields = ["user"]
