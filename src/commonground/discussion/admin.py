"""Comments and reports in the Django admin, read-only (moderation goes through services)."""

from django.contrib import admin

from commonground.core.admin import ReadOnlyAdmin

from .models import Comment, CommentReport


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    """Read-only: moderation goes through the services (and the audit log)."""

    list_display = [
        "id",
        "content_type",
        "object_id",
        "status",
        "report_count",
        "created_at",
    ]
    list_filter = ["status"]
    # A visitor's address is never shown, not even to staff.
    exclude = ["visitor_email", "visitor_key"]
    readonly_fields = [
        f.name
        for f in Comment._meta.fields
        if f.name not in {"visitor_email", "visitor_key"}
    ]


@admin.register(CommentReport)
class CommentReportAdmin(admin.ModelAdmin):
    list_display = ["id", "comment", "created_at"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
