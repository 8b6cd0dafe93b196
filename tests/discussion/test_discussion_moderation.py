"""The moderation queue and what moderators do with reports."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commonground.audit.models import AuditEntry
from commonground.discussion import selectors, services
from commonground.discussion.models import Comment, CommentReport
from commonground.members.models import Role
from factories import make_group, make_member, make_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def region():
    return make_group(name="Yorkshire")


@pytest.fixture
def branch(region):
    return make_group(parent=region, name="Hull")


def _reported(branch, reports: int, body: str = "reported words") -> Comment:
    comment = services.comment_post(
        author=make_member(branch), target=branch, body=body
    )
    for _ in range(reports):
        services.comment_report(
            reporter=make_member(branch), comment=comment, reason="rude"
        )
    comment.refresh_from_db()
    return comment


def test_comment_remembers_the_group_of_its_target(branch):
    comment = services.comment_post(author=make_member(branch), target=branch, body="x")
    assert comment.group == branch


def test_queue_lists_reported_and_hidden_comments_of_the_subtree(region, branch):
    hidden = _reported(branch, 3)
    reported = _reported(branch, 1, body="only once")
    _reported(branch, 0, body="nobody minds")
    elsewhere = make_group(name="Elsewhere")
    _reported(elsewhere, 2)
    items = selectors.moderation_queue(region)
    assert [item.comment for item in items] == [hidden, reported]
    assert items[0].reasons == ["rude", "rude", "rude"]
    assert items[0].thread_url.endswith(f"#comment-{hidden.pk}")


def test_queue_page_is_for_moderators_of_the_group_or_an_ancestor(
    client, region, branch
):
    hidden = _reported(branch, 3, body="needs a decision")
    url = reverse("discussion:moderation", args=[branch.slug])
    client.force_login(make_member(branch))
    assert client.get(url).status_code == 404
    client.force_login(make_role(region, Role.MODERATOR))
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "needs a decision" in page
    assert reverse("discussion:comment_action", args=[hidden.pk, "restore"]) in page


def test_group_page_links_moderation_for_moderators_only(client, branch):
    url = reverse("discussion:moderation", args=[branch.slug])
    client.force_login(make_member(branch))
    assert (
        url
        not in client.get(reverse("members:group", args=[branch.slug])).content.decode()
    )
    client.force_login(make_role(branch, Role.MODERATOR))
    assert (
        url in client.get(reverse("members:group", args=[branch.slug])).content.decode()
    )


def test_queue_page_query_count_is_constant(client, region, branch):
    client.force_login(make_role(region, Role.MODERATOR))
    url = reverse("discussion:moderation", args=[region.slug])
    _reported(branch, 1)
    client.get(url)  # the first request after logging in also stamps the session
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(6):
        _reported(branch, 1 + n % 3)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.content.decode().count('class="card"') == 7
    assert len(many.captured_queries) == len(few.captured_queries)


def test_restore_resolves_reports_so_one_new_report_does_not_rehide(branch):
    moderator = make_role(branch, Role.MODERATOR)
    comment = _reported(branch, 3)
    assert comment.status == Comment.Status.HIDDEN
    services.comment_restore(
        moderator=moderator, comment=comment, reason="Fair comment"
    )
    comment.refresh_from_db()
    assert comment.report_count == 0
    assert not CommentReport.objects.filter(
        comment=comment, resolved_at__isnull=True
    ).exists()
    services.comment_report(reporter=make_member(branch), comment=comment)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.VISIBLE
    assert comment.report_count == 1
    assert selectors.moderation_queue(branch)[0].comment == comment


def test_dismissing_reports_keeps_the_comment_and_is_audited(client, branch):
    moderator = make_role(branch, Role.MODERATOR)
    comment = _reported(branch, 2)
    client.force_login(moderator)
    url = reverse("discussion:comment_action", args=[comment.pk, "dismiss"])
    response = client.post(url, {"reason": "Within the rules"})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.status == Comment.Status.VISIBLE
    assert comment.report_count == 0
    entry = AuditEntry.objects.get(action="comment.reports_dismissed")
    assert entry.data == {"comment": comment.pk, "reports": 2}
    assert selectors.moderation_queue(branch) == []


def test_member_cannot_dismiss_reports(client, branch):
    comment = _reported(branch, 2)
    client.force_login(make_member(branch))
    url = reverse("discussion:comment_action", args=[comment.pk, "dismiss"])
    assert client.post(url).status_code == 403
    comment.refresh_from_db()
    assert comment.report_count == 2


def test_removed_comment_cannot_be_reported_and_leaves_the_queue(branch):
    moderator = make_role(branch, Role.MODERATOR)
    comment = _reported(branch, 1)
    services.comment_remove(moderator=moderator, comment=comment, reason="Spam")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.comment_report(reporter=make_member(branch), comment=comment)
    assert selectors.moderation_queue(branch) == []


def test_queue_escapes_report_reasons_and_names(client, branch):
    from factories import UserFactory

    author = make_member(branch, user=UserFactory(display_name="<b>Bold</b> name"))
    comment = services.comment_post(
        author=author, target=branch, body="<script>x</script>"
    )
    services.comment_report(
        reporter=make_member(branch),
        comment=comment,
        reason="<img src=x onerror=alert(1)>",
    )
    client.force_login(make_role(branch, Role.MODERATOR))
    page = client.get(
        reverse("discussion:moderation", args=[branch.slug])
    ).content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;Bold&lt;/b&gt; name" in page
    assert "<script>x" not in page
