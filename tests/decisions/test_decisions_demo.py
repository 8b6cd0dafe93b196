"""The demo decisions: open STV selection, a proposal gathering support, a closed ballot."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from commonground.decisions import demo
from commonground.decisions.models import Election, Proposal, TallyResult
from commonground.members.demo import email_for
from commonground.members.models import User

pytestmark = pytest.mark.django_db


def test_demo_decisions_are_made_through_the_services_and_idempotent(capsys):
    call_command("seed_demo")
    counts = (
        Election.objects.count(),
        Proposal.objects.count(),
        TallyResult.objects.count(),
    )
    call_command("seed_demo")
    assert (
        Election.objects.count(),
        Proposal.objects.count(),
        TallyResult.objects.count(),
    ) == counts

    selection = Election.objects.get(title=demo.SELECTION_TITLE)
    assert selection.phase_at(timezone.now()) == "open"
    assert selection.method == "stv" and selection.seats == 3
    assert selection.options.count() == 8
    assert all(option.description for option in selection.options.all())
    assert selection.seal.roll_size > 100

    proposal = Proposal.objects.get(title=demo.PROPOSAL_TITLE)
    assert proposal.status == Proposal.Status.DISCUSSION
    assert 0 < proposal.supports.count() < proposal.supporters_needed

    closed = Election.objects.get(title=demo.CLOSED_TITLE)
    result = TallyResult.objects.get(election=closed)
    assert json.loads(result.result_json)["method"] == "irv"
    assert result.ballot_count > 0 and result.outcome["winners"]

    client = Client()
    client.force_login(User.objects.get(email=email_for("member")))
    assert (
        "Rank"
        in client.get(reverse("decisions:election_detail", args=[selection.pk])).text
    )
    page = client.get(reverse("decisions:election_results", args=[closed.pk]))
    assert page.status_code == 200 and result.ballots_sha256 in page.text


def test_demo_threads_show_discussion_and_hustings():
    from commonground.discussion.models import Comment

    call_command("seed_demo")
    selection = Election.objects.get(title=demo.SELECTION_TITLE)
    proposal = Proposal.objects.get(title=demo.PROPOSAL_TITLE)
    from django.contrib.contenttypes.models import ContentType

    for target in (selection, proposal):
        comments = Comment.objects.filter(
            content_type=ContentType.objects.get_for_model(target),
            object_id=str(target.pk),
        )
        assert (
            comments.count() == 2 and comments.filter(parent__isnull=False).count() == 1
        )
