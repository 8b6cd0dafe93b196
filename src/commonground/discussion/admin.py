"""Comments and reports in the Django admin, read-only (moderation goes through services)."""

from django.contrib import admin

from .models import Comment, CommentReport


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
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
    readonly_fields = [f.name for f in Comment._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(CommentReport)
class CommentReportAdmin(admin.ModelAdmin):
    list_display = ["id", "comment", "created_at"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
