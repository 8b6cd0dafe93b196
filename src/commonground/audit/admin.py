"""The audit log in the Django admin, read-only."""

from django.contrib import admin

from commonground.core.admin import ReadOnlyAdmin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
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
