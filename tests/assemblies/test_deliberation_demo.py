"""The demo assemblies: a finished citizens' assembly (pool of 300, panel of 24 drawn
in public, sessions, discussion, recommendations voted on, published and one sent
to the membership) and a members' assembly recruiting; idempotent and the same
on every run."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from commonground.assemblies import deliberation_selectors as panel_selectors
from commonground.assemblies import demo
from commonground.assemblies.models import (
    Assembly,
    DrawStatus,
    RecommendationStatus,
    Status,
)
from commonground.discussion.models import Comment
from commonground.members import demo as members_demo

pytestmark = pytest.mark.django_db


def _seed():
    context: dict = {}
    members_demo.seed(context)
    demo.seed(context)


def test_the_demo_assemblies_are_made_once_through_the_services():
    _seed()
    _seed()
    finished = Assembly.objects.get(slug=demo.TRANSPORT_SLUG)
    assert finished.status == Status.CONCLUDED
    assert finished.registrants.count() == demo.POOL_SIZE
    (draw,) = finished.draws.all()
    assert draw.status == DrawStatus.DONE
    assert draw.random_number == demo.RANDOM_NUMBER
    assert finished.seats.count() == demo.PANEL_SIZE
    panel = panel_selectors.panel_member_ids(finished)
    assert 0 < len(panel) <= demo.PANEL_SIZE
    assert finished.sessions.count() == len(demo.SESSIONS)
    assert Comment.objects.filter(object_id__in=[str(finished.pk)]).exists()
    statuses = [r.status for r in finished.recommendations.all()]
    assert len(statuses) == len(demo.RECOMMENDATIONS)
    assert RecommendationStatus.ADOPTED in statuses
    assert all(r.published_at for r in finished.recommendations.all())
    sent = finished.recommendations.exclude(proposal=None).get()
    assert sent.proposal.status == "discussion"
    recruiting = Assembly.objects.get(slug=demo.DEMOCRACY_SLUG)
    assert recruiting.status == Status.RECRUITING
    assert recruiting.registrants.count() > 0

    client = Client()
    page = client.get(reverse("assemblies:recommendations", args=[finished.slug]))
    assert page.status_code == 200
    assert reverse("decisions:proposal_detail", args=[sent.proposal_id]) in (
        page.content.decode()
    )
    assert (
        client.get(reverse("assemblies:panel", args=[finished.slug])).status_code == 200
    )


def test_the_demo_draw_is_the_same_on_every_run():
    _seed()
    finished = Assembly.objects.get(slug=demo.TRANSPORT_SLUG)
    first = (
        finished.draws.get().pool_sha256,
        sorted(seat.registrant.pseudonym for seat in finished.seats.all()),
    )
    Assembly.objects.all().delete()
    demo.seed({})
    finished = Assembly.objects.get(slug=demo.TRANSPORT_SLUG)
    again = (
        finished.draws.get().pool_sha256,
        sorted(seat.registrant.pseudonym for seat in finished.seats.all()),
    )
    assert again == first
