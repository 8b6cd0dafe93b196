"""Concurrent writes on PostgreSQL with real connections: two editors publishing the
same article at once make one revision (the other is told nothing changed), and a
confirmation link followed twice at once shows the comment once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from commonground.discussion import services as discussion
from commonground.discussion import visitors
from commonground.discussion.models import Comment
from commonground.publishing import services
from commonground.publishing.models import Revision

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _race(count, action):
    barrier = threading.Barrier(count)

    def run(index):
        barrier.wait()
        try:
            return action(index)
        except ValidationError as error:
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_concurrent_publications_make_one_revision(draft, editor):
    outcomes = _race(
        6, lambda _i: services.article_publish(actor=editor, article=draft)
    )
    revisions = [o for o in outcomes if isinstance(o, Revision)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(revisions) == 1 and len(refused) == 5
    assert list(
        Revision.objects.filter(article=draft).values_list("number", flat=True)
    ) == [1]


def test_concurrent_confirmations_show_the_comment_once(published, editor, settings):
    settings.COMMONGROUND_VISITOR_HOLD = "none"
    comment = discussion.visitor_comment_post(
        target=published, name="Sam", email="sam@example.org", body="Hi", address="1"
    )
    token = visitors.confirm_token(comment)
    outcomes = _race(6, lambda _i: discussion.visitor_comment_confirm(token=token))
    assert {o.status for o in outcomes} == {Comment.Status.VISIBLE}
    from commonground.notifications.models import Notification

    told = Notification.objects.filter(kind="publishing.new_comment", recipient=editor)
    assert told.count() == 1
