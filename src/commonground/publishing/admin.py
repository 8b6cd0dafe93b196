"""Articles, revisions, pictures, tags and bylines in the Django admin, read-only:
writing, review and publication go through the services (and the audit log)."""

from django.contrib import admin

from commonground.core.admin import ReadOnlyAdmin

from .models import (
    Article,
    ArticleImage,
    AuthorProfile,
    PublishingPolicy,
    Revision,
    Tag,
)


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "kind", "status", "group", "first_published_at"]
    list_filter = ["status", "kind"]
    search_fields = ["title"]


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin):
    list_display = ["id", "article", "number", "published_at", "correction"]


@admin.register(ArticleImage)
class ArticleImageAdmin(ReadOnlyAdmin):
    list_display = ["id", "article", "alt", "width", "height", "uploaded_at"]


@admin.register(Tag)
class TagAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "slug", "organisation"]


@admin.register(AuthorProfile)
class AuthorProfileAdmin(ReadOnlyAdmin):
    list_display = ["id", "slug", "updated_at"]


@admin.register(PublishingPolicy)
class PublishingPolicyAdmin(ReadOnlyAdmin):
    list_display = ["id", "group", "review_required"]
