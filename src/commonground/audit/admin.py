"""The audit log in the Django admin, read-only."""

from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: nobody changes or deletes entries through the application."""

    list_display = (
        "id",
        "created_at",
        "action",
        "actor_id",
        "group",
        "target_type",
        "target_id",
    )
    list_filter = ("action",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
