"""Writers' and editors' pages, under the group (``/groups/<slug>/articles/``): the
group's articles, writing, pictures, the preview with review and publication, the
group's review policy, and one's own byline.

An article is only found under its own group's address; a draft answers 404 to
anyone but its writer and the group's editors.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from commonground.members.http import MemberRequest
from commonground.members.models import Group
from commonground.members.selectors import Viewer, group_by_slug, viewer_for

from .. import rendering, rules, selectors, services
from ..forms import (
    ArticleForm,
    BioForm,
    ImageForm,
    PolicyForm,
    PublishForm,
    RequestChangesForm,
    WithdrawForm,
    article_initial,
)
from ..models import Article, ArticleImage, AuthorProfile
from ..services._shared import review_required


def _group(request: HttpRequest, slug: str) -> tuple[Group, Viewer]:
    try:
        group = group_by_slug(slug)
    except Group.DoesNotExist:
        raise Http404("No such group") from None
    viewer = viewer_for(request.user, group)
    if not rules.can_see_group_articles(viewer):
        raise Http404("No such group")
    return group, viewer


def _draft(
    request: HttpRequest, slug: str, article_id: int
) -> tuple[Group, Viewer, Article]:
    group, viewer = _group(request, slug)
    try:
        article = selectors.article_in_group(group, article_id)
    except Article.DoesNotExist:
        raise Http404("No such article") from None
    if not rules.can_see_draft(viewer, article):
        raise Http404("No such article")
    return group, viewer, article


@require_GET
def group_articles(request: HttpRequest, slug: str) -> HttpResponse:
    group, viewer = _group(request, slug)
    articles = selectors.group_articles(group, viewer)
    tags = selectors.tags_of(articles.published)
    return render(
        request,
        "publishing/group.html",
        {
            "group": group,
            "viewer": viewer,
            "articles": articles,
            "published": [(r, tags.get(r.pk, [])) for r in articles.published],
            "can_write": rules.can_write(viewer),
            "can_change_policy": rules.can_change_policy(viewer),
            "review_required": review_required(group),
        },
    )


@login_required
@never_cache
def article_new(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = _group(request, slug)
    if not rules.can_write(viewer):
        raise Http404("No such page")
    form = ArticleForm(
        request.POST or None,
        initial={"comments_open": True, "visitors_may_comment": True},
    )
    if request.method == "POST" and form.is_valid():
        try:
            article = services.article_create(
                actor=request.user, group=group, **form.service_fields()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Draft saved. Add pictures or check the preview.")
            )
            return redirect("publishing:detail", group.slug, article.pk)
    status = 400 if form.is_bound else 200
    context = {"group": group, "viewer": viewer, "form": form, "article": None}
    return render(request, "publishing/form.html", context, status=status)


@login_required
@never_cache
def article_edit(request: MemberRequest, slug: str, article_id: int) -> HttpResponse:
    group, viewer, article = _draft(request, slug, article_id)
    if not rules.can_edit(viewer, article):
        messages.error(request, _("This article cannot be changed now."))
        return redirect("publishing:detail", group.slug, article.pk)
    form = ArticleForm(
        request.POST or None, article=article, initial=article_initial(article)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.article_update(
                actor=request.user, article=article, **form.service_fields()
            )
        except (ValidationError, PermissionDenied) as error:
            form.add_error(
                None, error if isinstance(error, ValidationError) else str(error)
            )
        else:
            messages.success(request, _("Changes saved."))
            return redirect("publishing:detail", group.slug, article.pk)
    status = 400 if form.is_bound else 200
    context = {
        "group": group,
        "viewer": viewer,
        "form": form,
        "article": article,
        "images": selectors.images_of(article),
        "image_form": ImageForm(),
    }
    return render(request, "publishing/form.html", context, status=status)


@login_required
@never_cache
@require_GET
def article_detail(request: MemberRequest, slug: str, article_id: int) -> HttpResponse:
    """The preview of the working copy, what changed since the published version,
    and what the viewer can do next."""
    group, viewer, article = _draft(request, slug, article_id)
    images = selectors.images_of(article)
    preview = rendering.render_body(
        article.body,
        kind=article.kind,
        interviewee=article.interviewee,
        images={
            image.pk: rendering.embedded(image) for image in images if image.renditions
        },
    )
    needs_review = review_required(group)
    context = {
        "group": group,
        "viewer": viewer,
        "article": article,
        "preview": preview,
        "images": images,
        "changes": selectors.working_copy_diff(article),
        "revisions": selectors.public_revisions(article),
        "can": {
            "edit": rules.can_edit(viewer, article),
            "submit": rules.can_submit(viewer, article),
            "request_changes": rules.can_request_changes(viewer, article),
            "publish": rules.can_publish(viewer, article, review_required=needs_review),
            "unschedule": rules.can_unschedule(viewer, article),
            "withdraw": rules.can_withdraw(viewer, article)
            and article.status != Article.Status.WITHDRAWN,
        },
        "review_required": needs_review,
        "publish_form": PublishForm(),
        "changes_form": RequestChangesForm(),
        "withdraw_form": WithdrawForm(),
        "image_form": ImageForm(),
        "scheduled_for": article.revisions.filter(published_at__gt=timezone.now())
        .values_list("published_at", flat=True)
        .first(),
    }
    return render(request, "publishing/detail.html", context)


def _act(
    request: MemberRequest,
    slug: str,
    article_id: int,
    action: Callable[[Article], str],
) -> HttpResponse:
    """Run one workflow step; its message or its refusal, back to the preview."""
    group, _viewer, article = _draft(request, slug, article_id)
    try:
        messages.success(request, action(article))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        messages.error(request, str(error))
    return redirect("publishing:detail", group.slug, article.pk)


@login_required
@require_POST
def article_submit(request: MemberRequest, slug: str, article_id: int) -> HttpResponse:
    def submit(article: Article) -> str:
        services.article_submit(actor=request.user, article=article)
        return _("Sent to the group's editors for review.")

    return _act(request, slug, article_id, submit)


@login_required
@require_POST
def article_request_changes(
    request: MemberRequest, slug: str, article_id: int
) -> HttpResponse:
    form = RequestChangesForm(request.POST)

    def send_back(article: Article) -> str:
        if not form.is_valid():
            raise ValidationError(_("Say what should change."))
        services.article_request_changes(
            actor=request.user, article=article, note=form.cleaned_data["note"]
        )
        return _("Sent back to the writer with your note.")

    return _act(request, slug, article_id, send_back)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value, timezone.get_current_timezone())
    return value


@login_required
@require_POST
def article_publish(request: MemberRequest, slug: str, article_id: int) -> HttpResponse:
    form = PublishForm(request.POST)

    def publish(article: Article) -> str:
        if not form.is_valid():
            raise ValidationError(
                [e for errors in form.errors.values() for e in errors]
            )
        at = _aware(form.cleaned_data["publish_at"])
        if at is not None and at <= timezone.now():
            raise ValidationError(_("Choose a time in the future, or leave it empty."))
        revision = services.article_publish(
            actor=request.user,
            article=article,
            at=at,
            correction=form.cleaned_data["correction"],
        )
        if at is not None:
            return _("Scheduled: it appears by itself at the time you chose.")
        if revision.correction:
            return _("Published, marked as a correction.")
        return _("Published.")

    return _act(request, slug, article_id, publish)


@login_required
@require_POST
def article_unschedule(
    request: MemberRequest, slug: str, article_id: int
) -> HttpResponse:
    def unschedule(article: Article) -> str:
        services.article_unschedule(actor=request.user, article=article)
        return _("No longer scheduled.")

    return _act(request, slug, article_id, unschedule)


@login_required
@require_POST
def article_withdraw(
    request: MemberRequest, slug: str, article_id: int
) -> HttpResponse:
    form = WithdrawForm(request.POST)

    def withdraw(article: Article) -> str:
        if not form.is_valid():
            raise ValidationError(_("Say why it is withdrawn; readers see it."))
        services.article_withdraw(
            actor=request.user, article=article, reason=form.cleaned_data["reason"]
        )
        return _("Withdrawn: its address now says so, with your reason.")

    return _act(request, slug, article_id, withdraw)


@login_required
@require_POST
def image_upload(request: MemberRequest, slug: str, article_id: int) -> HttpResponse:
    group, _viewer, article = _draft(request, slug, article_id)
    form = ImageForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(
            request, " ".join(str(e) for errors in form.errors.values() for e in errors)
        )
        return redirect("publishing:edit", group.slug, article.pk)
    try:
        image = services.image_upload(
            actor=request.user,
            article=article,
            upload=form.cleaned_data["image"],
            alt=form.cleaned_data["alt"],
            caption=form.cleaned_data["caption"],
        )
    except (ValidationError, PermissionDenied) as error:
        text = (
            " ".join(error.messages)
            if isinstance(error, ValidationError)
            else str(error)
        )
        messages.error(request, text)
    else:
        messages.success(
            request,
            _("Picture added. To show it, put this line in the text: %(line)s")
            % {"line": image.reference},
        )
    return redirect("publishing:edit", group.slug, article.pk)


@login_required
@require_POST
def image_delete(
    request: MemberRequest, slug: str, article_id: int, image_id: int
) -> HttpResponse:
    group, _viewer, article = _draft(request, slug, article_id)
    image = ArticleImage.objects.filter(pk=image_id, article=article).first()
    if image is None:
        raise Http404("No such picture")
    try:
        services.image_delete(actor=request.user, article=article, image=image)
    except (ValidationError, PermissionDenied) as error:
        text = (
            " ".join(error.messages)
            if isinstance(error, ValidationError)
            else str(error)
        )
        messages.error(request, text)
    else:
        messages.success(request, _("Picture removed."))
    return redirect("publishing:edit", group.slug, article.pk)


@login_required
@never_cache
def policy(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = _group(request, slug)
    if not rules.can_change_policy(viewer):
        raise Http404("No such page")
    form = PolicyForm(
        request.POST or None, initial={"review_required": review_required(group)}
    )
    if request.method == "POST" and form.is_valid():
        services.policy_update(
            actor=request.user,
            group=group,
            review_required=form.cleaned_data["review_required"],
        )
        messages.success(request, _("Saved."))
        return redirect("publishing:group_articles", group.slug)
    return render(
        request,
        "publishing/policy.html",
        {"group": group, "viewer": viewer, "form": form},
    )


@login_required
@never_cache
def byline(request: MemberRequest) -> HttpResponse:
    """One's own byline: the short bio under one's articles."""
    profile = AuthorProfile.objects.filter(user=request.user).first()
    form = BioForm(
        request.POST or None, initial={"bio": profile.bio if profile else ""}
    )
    if request.method == "POST" and form.is_valid():
        try:
            profile = services.author_profile_update(
                actor=request.user, bio=form.cleaned_data["bio"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your bio is saved."))
            return redirect("publishing:author", profile.slug)
    status = 400 if form.is_bound else 200
    return render(
        request,
        "publishing/byline.html",
        {"form": form, "profile": profile},
        status=status,
    )
