"""Reports racing on PostgreSQL with real threads and connections."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from commonground.audit.models import AuditEntry
from commonground.discussion import services
from commonground.discussion.models import Comment, CommentReport
from factories import make_group, make_member

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _race(calls: list) -> list:
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait()
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_same_member_reporting_concurrently_counts_once():
    group = make_group(name="Leeds")
    comment = services.comment_post(author=make_member(group), target=group, body="x")
    reporter = make_member(group)
    results = _race(
        [lambda: services.comment_report(reporter=reporter, comment=comment)] * 12
    )
    assert len({report.pk for report in results}) == 1
    assert CommentReport.objects.filter(comment=comment).count() == 1
    assert Comment.objects.get(pk=comment.pk).report_count == 1


def test_three_concurrent_reporters_hide_exactly_once():
    group = make_group(name="Leeds")
    comment = services.comment_post(author=make_member(group), target=group, body="x")
    reporters = [make_member(group) for _ in range(6)]
    _race(
        [
            (lambda r=r: services.comment_report(reporter=r, comment=comment))
            for r in reporters
        ]
    )
    comment.refresh_from_db()
    assert comment.report_count == 6
    assert comment.status == Comment.Status.HIDDEN
    assert AuditEntry.objects.filter(action="comment.auto_hidden").count() == 1
