"""URLs of the publishing app (included at the site root).

Readers: ``/articles/`` (every movement), ``/articles/<movement>/`` (a movement's
front page), ``/articles/<movement>/<article>/`` (with ``revisions/``),
``/tags/<movement>/<tag>/``, ``/authors/<author>/``, ``/search/``,
``/moderation-log/`` (and ``/moderation-log/<movement>/``), the feeds under
``/feeds/`` and ``/sitemap.xml``. Writers and editors work under the group,
``/groups/<slug>/articles/``, so its organisation's look applies.
"""

from django.contrib.sitemaps import views as sitemap_views
from django.urls import path
from django.views.decorators.cache import cache_control

from . import feeds, views
from .sitemaps import SITEMAPS

app_name = "publishing"

_GROUP = "groups/<slug:slug>/articles/"
_ONE = _GROUP + "<int:article_id>/"
_ARTICLE = "articles/<slug:org_slug>/<slug:slug>/"

urlpatterns = [
    # Readers
    path("articles/", views.all_articles, name="all_articles"),
    path("articles/<slug:org_slug>/", views.movement, name="movement"),
    path(_ARTICLE, views.article, name="article"),
    path(_ARTICLE + "revisions/", views.revisions, name="revisions"),
    path(
        _ARTICLE + "revisions/<int:number>/", views.revision_diff, name="revision_diff"
    ),
    path("tags/<slug:org_slug>/<slug:tag_slug>/", views.tag, name="tag"),
    path("authors/me/", views.byline, name="byline"),
    path("authors/<slug:slug>/", views.author, name="author"),
    path("search/", views.search, name="search"),
    path("moderation-log/", views.moderation_log, name="moderation_log"),
    path(
        "moderation-log/<slug:org_slug>/",
        views.movement_moderation_log,
        name="movement_moderation_log",
    ),
    # Feeds and the sitemap
    path("feeds/groups/<slug:slug>/atom/", feeds.GroupAtom(), name="group_atom"),
    path("feeds/groups/<slug:slug>/rss/", feeds.GroupRss(), name="group_rss"),
    path("feeds/<slug:org_slug>/atom/", feeds.MovementAtom(), name="movement_atom"),
    path("feeds/<slug:org_slug>/rss/", feeds.MovementRss(), name="movement_rss"),
    path(
        "feeds/<slug:org_slug>/tags/<slug:tag_slug>/atom/",
        feeds.TagAtom(),
        name="tag_atom",
    ),
    path(
        "feeds/<slug:org_slug>/tags/<slug:tag_slug>/rss/",
        feeds.TagRss(),
        name="tag_rss",
    ),
    path(
        "sitemap.xml",
        cache_control(public=True, max_age=3600)(sitemap_views.sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap",
    ),
    # Writers and editors
    path(_GROUP, views.group_articles, name="group_articles"),
    path(_GROUP + "new/", views.article_new, name="new"),
    path(_GROUP + "policy/", views.policy, name="policy"),
    path(_ONE, views.article_detail, name="detail"),
    path(_ONE + "edit/", views.article_edit, name="edit"),
    path(_ONE + "submit/", views.article_submit, name="submit"),
    path(
        _ONE + "request-changes/", views.article_request_changes, name="request_changes"
    ),
    path(_ONE + "publish/", views.article_publish, name="publish"),
    path(_ONE + "unschedule/", views.article_unschedule, name="unschedule"),
    path(_ONE + "withdraw/", views.article_withdraw, name="withdraw"),
    path(_ONE + "images/", views.image_upload, name="image_upload"),
    path(
        _ONE + "images/<int:image_id>/delete/", views.image_delete, name="image_delete"
    ),
]
