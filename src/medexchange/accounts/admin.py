from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from medexchange.accounts.models import (
    ApplicantProfile,
    InstitutionRole,
    Invitation,
    NetworkStaffRole,
    User,
)


class InstitutionRoleInline(admin.TabularInline):
    model = InstitutionRole
    extra = 0
    autocomplete_fields = ["institution"]


class NetworkStaffRoleInline(admin.TabularInline):
    model = NetworkStaffRole
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "preferred_language", "is_active", "is_superuser"]
    search_fields = ["email", "full_name"]
    inlines = [InstitutionRoleInline, NetworkStaffRoleInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("full_name", "preferred_language", "time_zone")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(InstitutionRole)
class InstitutionRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "institution", "role", "granted_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "institution__name"]
    autocomplete_fields = ["user", "institution"]


@admin.register(NetworkStaffRole)
class NetworkStaffRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "network", "granted_at"]
    autocomplete_fields = ["user"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "institution", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role"]
    search_fields = ["email", "institution__name"]
    readonly_fields = ["token"]
    autocomplete_fields = ["institution", "invited_by", "accepted_by"]


@admin.register(ApplicantProfile)
class ApplicantProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "training_level", "training_year", "home_country", "updated_at"]
    list_filter = ["training_level"]
    search_fields = ["user__email", "user__full_name"]
    autocomplete_fields = ["user", "home_institution"]
    raw_id_fields = ["home_country", "nationality"]
    filter_horizontal = ["specialty_interests"]
    readonly_fields = ["updated_at"]
