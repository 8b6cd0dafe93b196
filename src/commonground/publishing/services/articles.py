"""Writing and publishing articles: drafts, review, publication, scheduling,
corrections, withdrawal; the group's review policy and writers' bylines.

Every function is keyword-only, checks the actor's permission (``publishing.rules``),
locks the article row, and records what matters to members in the audit log in the
same transaction. Publishing freezes the working copy into a ``Revision``; readers
only ever see revisions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.core.capabilities import calls_to_action
from commonground.members.models import Group

from .. import notifications, rendering, rules
from ..models import (
    BIO_MAX_LENGTH,
    BODY_MAX_LENGTH,
    CORRECTION_MAX_LENGTH,
    STANDFIRST_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Article,
    ArticleImage,
    AuthorProfile,
    PublishingPolicy,
    Revision,
    Tag,
)
from ._shared import bump, locked, require, review_required, viewer_of

MAX_TAGS = 8
SLUG_MAX_LENGTH = 80
# /authors/me/ is one's own byline page.
RESERVED_AUTHOR_SLUGS = frozenset({"me"})


def _unique_slug(model: Any, base: str, field: str = "slug", **scope: Any) -> str:
    base = (slugify(base)[:SLUG_MAX_LENGTH].strip("-")) or "article"
    taken = set(
        model.objects.filter(**scope, **{f"{field}__startswith": base}).values_list(
            field, flat=True
        )
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _tag_names(tags: Iterable[str]) -> list[str]:
    names: dict[str, str] = {}
    for raw in tags:
        name = " ".join(str(raw).split())[:60]
        if name:
            names.setdefault(name.lower(), name)
    if len(names) > MAX_TAGS:
        raise ValidationError(
            {"tags": _("Use at most %(max)d tags.") % {"max": MAX_TAGS}}
        )
    return list(names.values())


def _tags_for(organisation_id: int, names: list[str]) -> list[Tag]:
    tags = []
    existing = {
        tag.name.lower(): tag
        for tag in Tag.objects.filter(organisation_id=organisation_id)
    }
    for name in names:
        tag = existing.get(name.lower())
        if tag is None:
            slug = _unique_slug(Tag, name, organisation_id=organisation_id)
            if slug == "article":
                slug = _unique_slug(Tag, "tag", organisation_id=organisation_id)
            tag = Tag.objects.create(
                organisation_id=organisation_id, name=name, slug=slug
            )
            existing[name.lower()] = tag
        tags.append(tag)
    return tags


def _clean(
    *,
    title: str,
    standfirst: str,
    body: str,
    kind: str,
    interviewee: str,
    call_to_action: str,
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    title = " ".join(title.replace("\x00", "").split())
    standfirst = " ".join(standfirst.replace("\x00", "").split())
    body = body.replace("\x00", "").replace("\r\n", "\n").strip()
    interviewee = " ".join(interviewee.replace("\x00", "").split())
    if not title or len(title) > TITLE_MAX_LENGTH:
        errors["title"] = _("Give a title of up to %(max)d characters.") % {
            "max": TITLE_MAX_LENGTH
        }
    if len(standfirst) > STANDFIRST_MAX_LENGTH:
        errors["standfirst"] = _("Keep the standfirst under %(max)d characters.") % {
            "max": STANDFIRST_MAX_LENGTH
        }
    if len(body) > BODY_MAX_LENGTH:
        errors["body"] = _("The text can be at most %(max)s characters long.") % {
            "max": f"{BODY_MAX_LENGTH:,}"
        }
    if kind not in Article.Kind.values:
        errors["kind"] = _("Choose an article or an interview.")
    if len(interviewee) > 120:
        errors["interviewee"] = _("Keep the name under 120 characters.")
    if call_to_action and call_to_action not in calls_to_action():
        errors["call_to_action"] = _("Choose one of the offered blocks, or none.")
    if errors:
        raise ValidationError(errors)
    return {
        "title": title,
        "standfirst": standfirst,
        "body": body,
        "kind": kind,
        "interviewee": interviewee,
        "call_to_action": call_to_action,
    }


def author_profile_for(user: Any) -> AuthorProfile:
    """The writer's byline (made on their first article)."""
    profile = AuthorProfile.objects.filter(user=user).first()
    if profile is None:
        name = user.public_name or "author"
        if slugify(name) in RESERVED_AUTHOR_SLUGS:
            name = f"{name} author"
        profile = AuthorProfile.objects.create(
            user=user,
            slug=_unique_slug(AuthorProfile, name),
            updated_at=timezone.now(),
        )
    return profile


@transaction.atomic
def author_profile_update(*, actor: Any, bio: str) -> AuthorProfile:
    """A writer's short bio under their byline (their own only)."""
    bio = bio.replace("\x00", "").strip()
    if len(bio) > BIO_MAX_LENGTH:
        raise ValidationError(
            {
                "bio": _("Keep the bio under %(max)d characters.")
                % {"max": BIO_MAX_LENGTH}
            }
        )
    profile = author_profile_for(actor)
    AuthorProfile.objects.filter(pk=profile.pk).update(
        bio=bio, updated_at=timezone.now()
    )
    profile.refresh_from_db()
    return profile


@transaction.atomic
def article_create(
    *,
    actor: Any,
    group: Group,
    title: str,
    standfirst: str = "",
    body: str = "",
    kind: str = Article.Kind.ARTICLE,
    interviewee: str = "",
    tags: Iterable[str] = (),
    call_to_action: str = "",
    comments_open: bool = True,
    visitors_may_comment: bool = True,
) -> Article:
    """A draft by ``actor`` (a writer or editor of the group), with them as author."""
    viewer = viewer_of(actor, group)
    require(
        rules.can_write(viewer),
        _("Only the group's writers and editors write articles."),
    )
    if group.archived_at is not None:
        raise ValidationError(_("This group is archived: it publishes nothing new."))
    fields = _clean(
        title=title,
        standfirst=standfirst,
        body=body,
        kind=kind,
        interviewee=interviewee,
        call_to_action=call_to_action,
    )
    names = _tag_names(tags)
    author_profile_for(actor)
    now = timezone.now()
    article = Article.objects.create(
        group=group,
        organisation_id=group.organisation_id,
        slug=_unique_slug(Article, fields["title"]),
        author=actor,
        comments_open=comments_open,
        visitors_may_comment=visitors_may_comment,
        created_at=now,
        updated_at=now,
        **fields,
    )
    article.tags.set(_tags_for(group.organisation_id, names))
    audit_record(actor=actor, action="article.created", target=article, group=group)
    return article


@transaction.atomic
def article_update(
    *,
    actor: Any,
    article: Article,
    title: str,
    standfirst: str = "",
    body: str = "",
    kind: str = Article.Kind.ARTICLE,
    interviewee: str = "",
    tags: Iterable[str] = (),
    call_to_action: str = "",
    comments_open: bool = True,
    visitors_may_comment: bool = True,
    lead_image: ArticleImage | None = None,
) -> Article:
    """Change the working copy. Readers see nothing until it is published again; a
    writer's change to a published article makes it a draft of the next version."""
    article = locked(article)
    viewer = viewer_of(actor, article)
    require(rules.can_edit(viewer, article), _("You cannot edit this article now."))
    fields = _clean(
        title=title,
        standfirst=standfirst,
        body=body,
        kind=kind,
        interviewee=interviewee,
        call_to_action=call_to_action,
    )
    if lead_image is not None and lead_image.article_id != article.pk:
        raise ValidationError({"lead_image": _("Choose one of this article's images.")})
    names = _tag_names(tags)
    status = article.status
    if status == Article.Status.PUBLISHED and not rules.is_editor(viewer):
        status = Article.Status.DRAFT
    Article.objects.filter(pk=article.pk).update(
        **fields,
        comments_open=comments_open,
        visitors_may_comment=visitors_may_comment,
        lead_image=lead_image,
        status=status,
        updated_at=timezone.now(),
    )
    article.refresh_from_db()
    article.tags.set(_tags_for(article.organisation_id, names))
    # Comment settings take effect at once (they are not part of a revision).
    bump(article)
    return article


@transaction.atomic
def article_submit(*, actor: Any, article: Article) -> Article:
    """The writer asks the group's editors to review the article."""
    article = locked(article)
    viewer = viewer_of(actor, article)
    require(
        rules.can_submit(viewer, article),
        _("You cannot send this article for review now."),
    )
    if not article.body.strip():
        raise ValidationError(
            {"body": _("Write the article before sending it for review.")}
        )
    now = timezone.now()
    Article.objects.filter(pk=article.pk).update(
        status=Article.Status.SUBMITTED,
        submitted_at=now,
        review_note="",
        updated_at=now,
    )
    article.refresh_from_db()
    audit_record(
        actor=actor, action="article.submitted", target=article, group=article.group
    )
    notifications.review_requested(article)
    return article


@transaction.atomic
def article_request_changes(*, actor: Any, article: Article, note: str) -> Article:
    """An editor sends the article back to its writer with what to change."""
    note = note.replace("\x00", "").strip()
    if not note:
        raise ValidationError({"note": _("Say what should change.")})
    if len(note) > 2000:
        raise ValidationError({"note": _("Keep the note under 2,000 characters.")})
    article = locked(article)
    viewer = viewer_of(actor, article)
    require(
        rules.can_request_changes(viewer, article),
        _("Only an editor can ask for changes to an article waiting for review."),
    )
    Article.objects.filter(pk=article.pk).update(
        status=Article.Status.CHANGES_REQUESTED,
        review_note=note,
        updated_at=timezone.now(),
    )
    article.refresh_from_db()
    audit_record(
        actor=actor,
        action="article.changes_requested",
        target=article,
        group=article.group,
    )
    notifications.changes_requested(article, actor)
    return article


def _live_revision(article: Article, now: datetime) -> Revision | None:
    return (
        Revision.objects.filter(article=article, published_at__lte=now)
        .prefetch_related("tags")
        .order_by("-number")
        .first()
    )


def _unchanged(article: Article, revision: Revision, tag_ids: set[int]) -> bool:
    return (
        revision.title == article.title
        and revision.standfirst == article.standfirst
        and revision.body == article.body
        and revision.kind == article.kind
        and revision.interviewee == article.interviewee
        and revision.lead_image_id == article.lead_image_id
        and {tag.pk for tag in revision.tags.all()} == tag_ids
    )


@transaction.atomic
def article_publish(
    *,
    actor: Any,
    article: Article,
    at: datetime | None = None,
    correction: str = "",
) -> Revision:
    """Publish the working copy now, or schedule it for ``at``: a new revision.

    Editors may always; a writer only their own article, and only where the group
    requires no review. ``correction`` (a later revision only) marks it publicly as
    correcting an error. A revision scheduled and not yet shown is replaced.
    """
    article = locked(article)
    viewer = viewer_of(actor, article)
    require(
        rules.can_publish(
            viewer, article, review_required=review_required(article.group)
        ),
        _("Only an editor can publish this article: the group reviews every article."),
    )
    now = timezone.now()
    if at is not None and at <= now:
        at = None
    correction = correction.replace("\x00", "").strip()
    if len(correction) > CORRECTION_MAX_LENGTH:
        raise ValidationError(
            {"correction": _("Keep the correction note under 1,000 characters.")}
        )
    if not article.title.strip() or not article.body.strip():
        raise ValidationError(_("An article needs a title and a text to be published."))
    if article.kind == Article.Kind.INTERVIEW and not article.interviewee:
        raise ValidationError({"interviewee": _("Name the person interviewed.")})
    # A scheduled revision readers never saw is replaced, not kept.
    Revision.objects.filter(article=article, published_at__gt=now).delete()
    live = _live_revision(article, now)
    tags = list(article.tags.all())
    if correction and live is None:
        raise ValidationError(
            {"correction": _("A first publication cannot be a correction.")}
        )
    if (
        live is not None
        and article.withdrawn_at is None
        and _unchanged(article, live, {tag.pk for tag in tags})
    ):
        raise ValidationError(_("Nothing has changed since the published version."))
    rendered = rendering.render_body(
        article.body,
        kind=article.kind,
        interviewee=article.interviewee,
        images=rendering.article_images(article),
    )
    last_number = (
        Revision.objects.filter(article=article)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
        or 0
    )
    when = at or now
    revision = Revision.objects.create(
        article=article,
        number=last_number + 1,
        kind=article.kind,
        title=article.title,
        standfirst=article.standfirst,
        body=article.body,
        interviewee=article.interviewee,
        body_html=rendered.html,
        text=" ".join([article.title, article.standfirst, rendered.text]),
        reading_minutes=rendered.reading_minutes,
        lead_image_id=article.lead_image_id,
        published_at=when,
        published_by=actor,
        correction=correction,
    )
    revision.tags.set(tags)
    first = article.first_published_at if live is not None else when
    Article.objects.filter(pk=article.pk).update(
        status=Article.Status.SCHEDULED if at else Article.Status.PUBLISHED,
        first_published_at=first,
        withdrawn_at=None,
        review_note="",
        updated_at=now,
    )
    bump(article)
    article.refresh_from_db()
    action = (
        "article.scheduled"
        if at
        else "article.corrected"
        if correction
        else "article.published"
    )
    audit_record(
        actor=actor,
        action=action,
        target=article,
        group=article.group,
        reason=correction,
        data={"revision": revision.number, "at": when.isoformat()},
    )
    notifications.published(article, actor, scheduled=bool(at))
    return revision


@transaction.atomic
def article_unschedule(*, actor: Any, article: Article) -> Article:
    """Take back a scheduled publication before it happens."""
    article = locked(article)
    viewer = viewer_of(actor, article)
    require(
        rules.can_unschedule(viewer, article), _("Only an editor can unschedule it.")
    )
    now = timezone.now()
    Revision.objects.filter(article=article, published_at__gt=now).delete()
    live = _live_revision(article, now)
    Article.objects.filter(pk=article.pk).update(
        status=Article.Status.SUBMITTED if live is None else Article.Status.PUBLISHED,
        first_published_at=article.first_published_at if live is not None else None,
        updated_at=now,
    )
    bump(article)
    article.refresh_from_db()
    audit_record(
        actor=actor, action="article.unscheduled", target=article, group=article.group
    )
    return article


@transaction.atomic
def article_withdraw(*, actor: Any, article: Article, reason: str) -> Article:
    """Take a published article off the site (its address then says it was
    withdrawn, and why). Publishing it again brings it back."""
    reason = reason.replace("\x00", "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why it is withdrawn; readers see it.")})
    article = locked(article)
    viewer = viewer_of(actor, article)
    require(
        rules.can_withdraw(viewer, article),
        _("Only an editor can withdraw an article."),
    )
    now = timezone.now()
    Revision.objects.filter(article=article, published_at__gt=now).delete()
    Article.objects.filter(pk=article.pk).update(
        status=Article.Status.WITHDRAWN,
        withdrawn_at=now,
        review_note=reason,
        updated_at=now,
    )
    bump(article)
    article.refresh_from_db()
    audit_record(
        actor=actor,
        action="article.withdrawn",
        target=article,
        group=article.group,
        reason=reason,
    )
    return article


def articles_sweep() -> int:
    """Mark scheduled articles whose time has come as published (readers already see
    them: visibility follows from the revision's time, not from this sweep); and
    purge unconfirmed visitor comments whose link expired. Idempotent."""
    from django.db.models import Exists, OuterRef

    from commonground.discussion.services import unconfirmed_comments_purge

    now = timezone.now()
    pending = Revision.objects.filter(article=OuterRef("pk"), published_at__gt=now)
    due = list(
        Article.objects.filter(status=Article.Status.SCHEDULED)
        .exclude(Exists(pending))
        .values_list("pk", flat=True)
    )
    for article_id in due:
        with transaction.atomic():
            article = (
                Article.objects.select_for_update()
                .select_related("group")
                .filter(pk=article_id, status=Article.Status.SCHEDULED)
                .first()
            )
            if article is None:
                continue
            Article.objects.filter(pk=article.pk).update(
                status=Article.Status.PUBLISHED
            )
            bump(article)
            audit_record(
                actor=None,
                action="article.published",
                target=article,
                group=article.group,
                data={"scheduled": True},
            )
    unconfirmed_comments_purge()
    return len(due)


@transaction.atomic
def policy_update(
    *, actor: Any, group: Group, review_required: bool
) -> PublishingPolicy:
    """Whether the group's editors review every article before it is published."""
    viewer = viewer_of(actor, group)
    require(
        rules.can_change_policy(viewer),
        _("Only the group's editors, organisers and admins set how it publishes."),
    )
    policy, created = PublishingPolicy.objects.select_for_update().get_or_create(
        group=group, defaults={"review_required": review_required}
    )
    if policy.review_required != review_required or created:
        PublishingPolicy.objects.filter(pk=policy.pk).update(
            review_required=review_required
        )
        policy.review_required = review_required
        audit_record(
            actor=actor,
            action="publishing.policy_changed",
            target=group,
            group=group,
            data={"review_required": review_required},
        )
    return policy


def author_forget(user: Any) -> None:
    """A writer deleted their account: their bio and byline page go; their articles
    stay, signed "Deleted member" (called inside the deletion's transaction)."""
    AuthorProfile.objects.filter(user=user).delete()
