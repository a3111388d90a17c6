from django.contrib import admin

from medexchange.catalog.models import Opportunity, SavedSearch, Session, Specialty


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


class SessionInline(admin.TabularInline):
    model = Session
    extra = 0


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "host", "level", "status"]
    list_filter = ["kind", "level", "status"]
    search_fields = ["title", "host__name"]
    autocomplete_fields = ["host"]
    filter_horizontal = ["sites", "eligible_countries"]
    inlines = [SessionInline]
    list_select_related = ["host"]


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ["opportunity", "start_date", "end_date", "capacity", "applications_close_at"]
    date_hierarchy = "start_date"
    search_fields = ["opportunity__title"]
    autocomplete_fields = ["opportunity"]


@admin.register(SavedSearch)
class SavedSearchAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "created_at", "last_notified_at", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "user__email", "query"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "last_notified_at"]
    list_select_related = ["user"]
