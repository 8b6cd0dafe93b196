"""Writing, review and publication: drafts, refusals, revisions, corrections,
scheduling and withdrawal, over HTTP and through the services, with the audit log
and the notifications they leave."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from commonground.audit.models import AuditEntry
from commonground.members.models import Role
from commonground.notifications.models import Notification
from commonground.publishing import selectors, services
from commonground.publishing.models import Article, Revision
from factories import make_member, make_role

pytestmark = pytest.mark.django_db


def _detail(article):
    return reverse("publishing:detail", args=[article.group.slug, article.pk])


def _actions(article):
    return [
        e.action
        for e in AuditEntry.objects.filter(
            target_id=str(article.pk), target_type="publishing.article"
        ).order_by("id")
    ]


def test_writer_drafts_over_http_and_only_they_and_editors_see_it(
    client, national, writer, editor, member
):
    client.force_login(writer)
    response = client.post(
        reverse("publishing:new", args=[national.slug]),
        {
            "kind": "article",
            "title": "Buses, not bypasses",
            "standfirst": "Why we oppose the road.",
            "body": "The bypass costs **more**.",
            "tags": "Climate, Transport",
            "call_to_action": "join",
            "comments_open": "on",
        },
    )
    article = Article.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _detail(article)
    assert article.author == writer and article.status == Article.Status.DRAFT
    assert sorted(t.name for t in article.tags.all()) == ["Climate", "Transport"]
    assert article.visitors_may_comment is False  # the box was left unticked
    assert client.get(_detail(article)).status_code == 200
    client.force_login(editor)
    assert client.get(_detail(article)).status_code == 200
    client.force_login(member)
    assert client.get(_detail(article)).status_code == 404
    # Not out yet: no public page.
    client.logout()
    assert client.get(article.get_absolute_url()).status_code == 404
    assert _actions(article) == ["article.created"]


def test_members_without_the_writer_role_cannot_start_an_article(
    client, national, member
):
    client.force_login(member)
    assert (
        client.get(reverse("publishing:new", args=[national.slug])).status_code == 404
    )
    with pytest.raises(PermissionDenied):
        services.article_create(actor=member, group=national, title="No")
    assert not Article.objects.exists()


def test_writer_cannot_publish_where_review_is_required(client, draft, writer):
    client.force_login(writer)
    response = client.post(
        reverse("publishing:publish", args=[draft.group.slug, draft.pk])
    )
    assert response.status_code == 302
    assert not Revision.objects.exists()
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT
    assert client.get(draft.get_absolute_url()).status_code == 404
    with pytest.raises(PermissionDenied):
        services.article_publish(actor=writer, article=draft)
    assert not Revision.objects.exists()
    assert "article.published" not in _actions(draft)


def test_review_round_trip_submit_request_changes_resubmit_publish(
    client, draft, writer, editor
):
    client.force_login(writer)
    client.post(reverse("publishing:submit", args=[draft.group.slug, draft.pk]))
    draft.refresh_from_db()
    assert draft.status == Article.Status.SUBMITTED
    assert Notification.objects.filter(
        recipient=editor, kind="publishing.review_requested"
    ).exists()
    # While an editor reviews it, the writer cannot change it.
    assert (
        client.get(
            reverse("publishing:edit", args=[draft.group.slug, draft.pk])
        ).status_code
        == 302
    )

    client.force_login(editor)
    client.post(
        reverse("publishing:request_changes", args=[draft.group.slug, draft.pk]),
        {"note": "Add the vote count in the title."},
    )
    draft.refresh_from_db()
    assert draft.status == Article.Status.CHANGES_REQUESTED
    assert draft.review_note == "Add the vote count in the title."
    assert Notification.objects.filter(
        recipient=writer, kind="publishing.changes_requested"
    ).exists()

    client.force_login(writer)
    page = client.get(_detail(draft)).content.decode()
    assert "Add the vote count in the title." in page
    services.article_update(
        actor=writer, article=draft, title="Rent caps pass, 7 to 4", body=draft.body
    )
    services.article_submit(actor=writer, article=draft)

    client.force_login(editor)
    response = client.post(
        reverse("publishing:publish", args=[draft.group.slug, draft.pk])
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Article.Status.PUBLISHED
    assert draft.first_published_at is not None
    revision = Revision.objects.get()
    assert (revision.number, revision.title, revision.published_by) == (
        1,
        "Rent caps pass, 7 to 4",
        editor,
    )
    assert Notification.objects.filter(
        recipient=writer, kind="publishing.article_published"
    ).exists()
    assert _actions(draft) == [
        "article.created",
        "article.submitted",
        "article.changes_requested",
        "article.submitted",
        "article.published",
    ]
    client.logout()
    assert client.get(draft.get_absolute_url()).status_code == 200


def test_where_no_review_is_required_a_writer_publishes_their_own(
    draft, writer, editor, national
):
    services.policy_update(actor=editor, group=national, review_required=False)
    services.article_publish(actor=writer, article=draft)
    assert Revision.objects.filter(article=draft).count() == 1
    # ... but never someone else's.
    other = services.article_create(
        actor=editor, group=national, title="Editor's", body="x"
    )
    with pytest.raises(PermissionDenied):
        services.article_publish(actor=writer, article=other)


def test_branch_policy_overrides_the_national_one(national, branch, editor):
    from commonground.publishing.services._shared import review_required

    services.policy_update(actor=editor, group=national, review_required=False)
    assert review_required(branch) is False
    services.policy_update(actor=editor, group=branch, review_required=True)
    assert review_required(branch) is True
    assert review_required(national) is False


def test_every_published_revision_is_kept_and_corrections_are_public(
    client, published, editor
):
    services.article_update(
        actor=editor,
        article=published,
        title=published.title,
        standfirst=published.standfirst,
        body=published.body.replace("7 to 4", "8 to 3"),
        tags=["Housing", "Leeds"],
    )
    services.article_publish(
        actor=editor, article=published, correction="The vote was 8 to 3, not 7 to 4."
    )
    assert list(
        Revision.objects.filter(article=published).values_list("number", flat=True)
    ) == [1, 2]
    page = client.get(published.get_absolute_url()).content.decode()
    assert "The vote was 8 to 3, not 7 to 4." in page
    assert "<strong>8 to 3</strong>" in page
    assert "2 published versions" in page
    history = client.get(reverse("publishing:revisions", args=["x", "y"]))
    assert history.status_code == 404
    slug = published.organisation.slug
    history = client.get(reverse("publishing:revisions", args=[slug, published.slug]))
    assert history.status_code == 200 and "correction" in history.content.decode()
    diff = client.get(
        reverse("publishing:revision_diff", args=[slug, published.slug, 2])
    )
    html = diff.content.decode()
    assert diff.status_code == 200
    assert 'class="diff--removed"' in html and "7 to 4" in html
    assert 'class="diff--added"' in html and "8 to 3" in html
    assert (
        client.get(
            reverse("publishing:revision_diff", args=[slug, published.slug, 9])
        ).status_code
        == 404
    )
    assert "article.corrected" in _actions(published)


def test_nothing_changed_is_refused_and_a_first_version_is_no_correction(
    draft, published, editor
):
    with pytest.raises(ValidationError):
        services.article_publish(actor=editor, article=published)
    other = services.article_create(
        actor=editor, group=published.group, title="New", body="x"
    )
    with pytest.raises(ValidationError):
        services.article_publish(actor=editor, article=other, correction="oops")
    assert Revision.objects.filter(article=other).count() == 0


def test_a_writers_edit_of_a_published_article_is_not_public_until_published(
    client, published, writer
):
    services.article_update(
        actor=writer, article=published, title="A secret new title", body="Draft words."
    )
    published.refresh_from_db()
    assert published.status == Article.Status.DRAFT
    page = client.get(published.get_absolute_url()).content.decode()
    assert "A secret new title" not in page and "Draft words." not in page
    assert "Rent caps pass their first vote" in page


def test_scheduled_article_appears_on_time_without_any_job(client, draft, editor):
    at = timezone.now() + timedelta(hours=2)
    revision = services.article_publish(actor=editor, article=draft, at=at)
    draft.refresh_from_db()
    assert draft.status == Article.Status.SCHEDULED
    assert revision.published_at == at
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert selectors.latest() == []
    with time_machine.travel(at + timedelta(seconds=1)):
        assert client.get(draft.get_absolute_url()).status_code == 200
        assert [r.article_id for r in selectors.latest()] == [draft.pk]
        assert services.articles_sweep() == 1
        assert services.articles_sweep() == 0  # idempotent
    draft.refresh_from_db()
    assert draft.status == Article.Status.PUBLISHED


def test_unscheduling_takes_back_a_scheduled_publication(draft, editor):
    services.article_publish(
        actor=editor, article=draft, at=timezone.now() + timedelta(days=1)
    )
    services.article_unschedule(actor=editor, article=draft)
    draft.refresh_from_db()
    assert not Revision.objects.filter(article=draft).exists()
    assert draft.first_published_at is None
    assert draft.status == Article.Status.SUBMITTED


def test_withdrawn_article_says_so_with_its_reason(client, published, editor):
    client.force_login(editor)
    client.post(
        reverse("publishing:withdraw", args=[published.group.slug, published.pk]),
        {"reason": "Legal advice"},
    )
    client.logout()
    response = client.get(published.get_absolute_url())
    assert response.status_code == 410
    assert "Legal advice" in response.content.decode()
    assert selectors.latest() == []
    # Publishing again brings it back.
    services.article_publish(actor=editor, article=published)
    assert client.get(published.get_absolute_url()).status_code == 200


def test_editor_of_the_national_group_edits_a_branch_article(branch, editor, national):
    branch_writer = make_role(branch, Role.WRITER, user=make_member(branch))
    article = services.article_create(
        actor=branch_writer, group=branch, title="Branch", body="x"
    )
    services.article_publish(actor=editor, article=article)
    assert article.revisions.count() == 1


def test_a_draft_under_another_group_is_not_found(client, draft, editor, branch):
    client.force_login(editor)
    url = reverse("publishing:detail", args=[branch.slug, draft.pk])
    assert client.get(url).status_code == 404


def test_group_articles_section_counts_and_needs_you(
    client, draft, writer, editor, national
):
    from commonground.core.capabilities import group_overview
    from commonground.members.selectors import viewer_for

    services.article_submit(actor=writer, article=draft)
    viewer = viewer_for(editor, national)
    assert selectors.articles_count(national, viewer) == 1
    needs = group_overview(national, viewer).needs_you
    assert any("waits for your review" in str(item.text) for item in needs)
    client.force_login(editor)
    page = client.get(
        reverse("publishing:group_articles", args=[national.slug])
    ).content.decode()
    assert "Waiting for review" in page and draft.title in page


def test_emails_for_review_go_to_editors(
    draft, writer, editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.article_submit(actor=writer, article=draft)
    assert any(editor.email in message.to for message in mail.outbox)
    assert not any(writer.email in message.to for message in mail.outbox)
