"""Read-only admin views of members and groups for support staff.

Support staff look things up here; every change goes through the platform's own
pages and services, which check permissions and write the audit log.
"""

from __future__ import annotations

from django.contrib import admin

from commonground.core.admin import ReadOnlyAdmin

from .models import (
    Group,
    Invitation,
    Membership,
    MembershipChange,
    MemberVerification,
    Organisation,
    RoleAssignment,
    User,
)


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    fields = ("group", "status", "since")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def,override]
        return False


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = (
        "email",
        "display_name",
        "is_active",
        "is_staff",
        "email_bounced_at",
        "date_joined",
    )
    list_filter = ("is_active", "is_staff", "email_bounced_at")
    search_fields = ("email", "display_name")
    exclude = ("password",)
    inlines = (MembershipInline,)


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ("name", "slug", "kind", "verification")
    search_fields = ("name", "slug")


@admin.register(Group)
class GroupAdmin(ReadOnlyAdmin):
    list_display = ("name", "slug", "kind", "organisation", "path", "archived_at")
    list_filter = ("kind", "organisation", "join_policy", "is_public")
    search_fields = ("name", "slug")


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "group", "status", "since")
    list_filter = ("status",)
    search_fields = ("user__email", "group__name")
    list_select_related = ("user", "group")


@admin.register(MembershipChange)
class MembershipChangeAdmin(ReadOnlyAdmin):
    list_display = ("membership", "from_status", "to_status", "actor", "at")
    list_select_related = ("membership", "actor")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("user", "group", "role", "assigned_at")
    list_filter = ("role",)
    list_select_related = ("user", "group")


@admin.register(MemberVerification)
class MemberVerificationAdmin(ReadOnlyAdmin):
    list_display = ("user", "organisation", "method", "verified_at")
    list_filter = ("method",)
    exclude = ("code_hash",)


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("user", "organisation", "send_count", "last_sent_at", "claimed_at")
