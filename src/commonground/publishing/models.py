"""Articles and interviews, their published revisions, images, tags and authors.

An ``Article`` is the working copy writers and editors edit; what readers see is a
``Revision``: a frozen copy made each time an editor publishes (or schedules) it.
The live revision is the newest whose ``published_at`` has come, so a scheduled
publication needs no background job to appear on time. Every published revision is
kept, so readers can see what changed; a revision published as a correction says so
publicly.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

TITLE_MAX_LENGTH = 200
STANDFIRST_MAX_LENGTH = 600
BODY_MAX_LENGTH = 100_000
BIO_MAX_LENGTH = 600
ALT_MAX_LENGTH = 300
CORRECTION_MAX_LENGTH = 1_000
# Words a reader reads in a minute, for the reading time.
WORDS_PER_MINUTE = 220


class Tag(models.Model):
    """A topic a movement files its articles under (its tag page and feeds)."""

    organisation = models.ForeignKey(
        "members.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=60)
    slug = models.SlugField(max_length=60, allow_unicode=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "slug"], name="tag_slug_per_organisation"
            )
        ]

    def __str__(self) -> str:
        return self.name


class AuthorProfile(models.Model):
    """A writer's public byline: their member name and a short bio, on their page."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    slug = models.SlugField(max_length=80, unique=True)
    bio = models.TextField(max_length=BIO_MAX_LENGTH, blank=True)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("publishing:author", args=[self.slug])


class PublishingPolicy(models.Model):
    """How a group publishes: whether an editor must review a writer's article before
    it goes out (the default when a group has no row)."""

    group = models.OneToOneField(
        "members.Group", on_delete=models.CASCADE, related_name="+"
    )
    review_required = models.BooleanField(
        _("an editor reviews every article before it is published"), default=True
    )

    def __str__(self) -> str:
        return f"policy of group {self.group_id}"


class Article(models.Model):
    class Kind(models.TextChoices):
        ARTICLE = "article", _("Article")
        INTERVIEW = "interview", _("Interview")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Waiting for an editor's review")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        SCHEDULED = "scheduled", _("Scheduled")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    group = models.ForeignKey(
        "members.Group", on_delete=models.PROTECT, related_name="+"
    )
    # The group's organisation (a group never changes organisation): the movement
    # whose pages, feeds and look the article belongs to.
    organisation = models.ForeignKey(
        "members.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    # Fixed when the article is first created: its address never changes.
    slug = models.SlugField(max_length=90, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ARTICLE)
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    standfirst = models.TextField(max_length=STANDFIRST_MAX_LENGTH, blank=True)
    body = models.TextField(max_length=BODY_MAX_LENGTH, blank=True)
    # For an interview: who answers (the questions are the movement's).
    interviewee = models.CharField(max_length=120, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="+")
    lead_image = models.ForeignKey(
        "ArticleImage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A registered call to action shown at the end (core.capabilities.CallToAction).
    call_to_action = models.CharField(max_length=40, blank=True)
    comments_open = models.BooleanField(_("readers may comment"), default=True)
    visitors_may_comment = models.BooleanField(
        _("visitors without an account may comment (after confirming by email)"),
        default=True,
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    # What the editor asked to change (shown to the writer), cleared on resubmission.
    review_note = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The first revision's publication time (past or, scheduled, future): the date
    # readers see and lists are ordered by. Null until published or scheduled.
    first_published_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every change readers could see (a publication, a comment shown or
    # removed): the cached copy of its page is keyed by it, and ``changed_at`` is
    # the page's Last-Modified.
    cache_version = models.PositiveIntegerField(default=1)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["group", "status"], name="article_group_status_idx"),
            models.Index(
                fields=["first_published_at", "withdrawn_at"],
                name="article_published_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("publishing:article", args=[self.organisation.slug, self.slug])

    @property
    def is_interview(self) -> bool:
        return self.kind == self.Kind.INTERVIEW


class Revision(models.Model):
    """One published (or scheduled) version of an article, never changed afterwards."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="revisions"
    )
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Article.Kind.choices)
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    standfirst = models.TextField(max_length=STANDFIRST_MAX_LENGTH, blank=True)
    body = models.TextField(max_length=BODY_MAX_LENGTH, blank=True)
    interviewee = models.CharField(max_length=120, blank=True)
    # The body as sanitised HTML, rendered once when published.
    body_html = models.TextField()
    # The words alone (search, descriptions, reading time).
    text = models.TextField(blank=True)
    reading_minutes = models.PositiveIntegerField(default=1)
    tags = models.ManyToManyField(Tag, blank=True, related_name="revisions")
    lead_image = models.ForeignKey(
        "ArticleImage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set when this revision corrects an error in the one before: shown publicly.
    correction = models.TextField(max_length=CORRECTION_MAX_LENGTH, blank=True)

    class Meta:
        ordering = ["article", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "number"], name="one_revision_number_per_article"
            )
        ]
        indexes = [
            models.Index(fields=["article", "published_at"], name="revision_live_idx")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} r{self.number}"

    @property
    def safe_body(self) -> str:
        from django.utils.safestring import mark_safe

        return mark_safe(self.body_html)  # noqa: S308 - sanitised by nh3 on write


class ArticleImage(models.Model):
    """An uploaded image: checked by content, stripped of metadata, resized into a
    few widths (``renditions``: [{"width", "height", "name"}], narrowest first)."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="images"
    )
    alt = models.CharField(
        _("description for people who cannot see it"), max_length=ALT_MAX_LENGTH
    )
    caption = models.CharField(max_length=300, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    renditions = models.JSONField(default=list)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.alt

    @property
    def thumbnail(self) -> dict[str, object] | None:
        """The narrowest rendition: url, width, height (the editor's list)."""
        if not self.renditions:
            return None
        from django.core.files.storage import default_storage

        first = min(self.renditions, key=lambda r: int(r["width"]))
        return {
            "url": default_storage.url(first["name"]),
            "width": first["width"],
            "height": first["height"],
        }

    @property
    def reference(self) -> str:
        """What a writer puts in the body to show it: ``![alt](image:12)``."""
        return f"![{self.alt}](image:{self.pk})"
