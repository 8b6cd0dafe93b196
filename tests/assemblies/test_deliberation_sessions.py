"""Sessions of a panel: organisers schedule them, the panel is told, the public sees
the timetable (materials only when published, the online link never), times in
each reader's zone; the panel's discussion is for the panel and organisers only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from assemblies.deliberation_support import make_panel
from commonground.assemblies.models import Session, Status
from commonground.assemblies.services import deliberation as panel_services
from commonground.audit.models import AuditEntry
from commonground.discussion.models import Comment
from commonground.notifications.models import Notification

pytestmark = pytest.mark.django_db

START = datetime(2030, 3, 2, 9, 30, tzinfo=UTC)


def _spec(**changes):
    fields = {
        "title": "Buses and trams: the evidence",
        "starts_at": START,
        "ends_at": START + timedelta(hours=3),
        "place": "Leeds Central Library, room 2",
        "online_url": "https://meet.example.org/panel-secret-room",
        "materials": "Read [the bus report](https://example.org/buses) *before*.",
        "speakers": [
            panel_services.SpeakerSpec(
                name="Dr Ana Costa", role="Transport economist", summary="Fares."
            )
        ],
    }
    fields.update(changes)
    return panel_services.SessionSpec(**fields)


def test_an_organiser_schedules_a_session_and_the_panel_is_told():
    setup = make_panel()
    session = panel_services.session_schedule(
        actor=setup.organiser, assembly=setup.assembly, spec=_spec()
    )
    assert session.speakers.get().name == "Dr Ana Costa"
    assert '<a href="https://example.org/buses"' in session.materials_html
    setup.assembly.refresh_from_db()
    assert setup.assembly.status == Status.DELIBERATING
    told = set(
        Notification.objects.filter(kind="assemblies.session_scheduled").values_list(
            "recipient_id", flat=True
        )
    )
    assert told == {user.pk for user in setup.panel}
    entry = AuditEntry.objects.get(action="assembly.session_scheduled")
    assert entry.actor_id == setup.organiser.pk


def test_panel_members_and_others_may_not_schedule_sessions():
    setup = make_panel()
    for who in (setup.panel[0], setup.member):
        with pytest.raises(PermissionDenied):
            panel_services.session_schedule(
                actor=who, assembly=setup.assembly, spec=_spec()
            )
    assert not Session.objects.exists()


def test_a_session_must_end_after_it_starts():
    setup = make_panel()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        panel_services.session_schedule(
            actor=setup.organiser,
            assembly=setup.assembly,
            spec=_spec(ends_at=START - timedelta(minutes=1)),
        )


def test_the_public_sees_the_timetable_without_link_or_private_materials(client):
    setup = make_panel()
    session = panel_services.session_schedule(
        actor=setup.organiser, assembly=setup.assembly, spec=_spec()
    )
    space = client.get(reverse("assemblies:panel", args=[setup.assembly.slug]))
    assert space.status_code == 200
    assert "Buses and trams: the evidence" in space.content.decode()
    page = client.get(session.get_absolute_url()).content.decode()
    assert "Dr Ana Costa" in page
    assert "panel-secret-room" not in page
    assert "the bus report" not in page
    client.force_login(setup.panel[0])
    page = client.get(session.get_absolute_url()).content.decode()
    assert "panel-secret-room" in page and "the bus report" in page


def test_published_materials_are_public(client):
    setup = make_panel()
    session = panel_services.session_schedule(
        actor=setup.organiser,
        assembly=setup.assembly,
        spec=_spec(materials_public=True),
    )
    page = client.get(session.get_absolute_url()).content.decode()
    assert "the bus report" in page
    assert "panel-secret-room" not in page


def test_times_are_typed_and_shown_in_the_members_time_zone(client):
    setup = make_panel()
    setup.organiser.time_zone = "Europe/Berlin"
    setup.organiser.save(update_fields=["time_zone"])
    client.force_login(setup.organiser)
    response = client.post(
        reverse("assemblies:session_new", args=[setup.assembly.slug]),
        {
            "title": "Walking and cycling",
            "starts_at": "2030-07-01T18:00",
            "ends_at": "2030-07-01T20:00",
            "place": "Online",
            "speakers": "Sam Rider | Cycling campaigner | Safe routes to school",
        },
    )
    assert response.status_code == 302
    session = Session.objects.get(title="Walking and cycling")
    # 18:00 in Berlin in July (UTC+2) is 16:00 UTC.
    assert session.starts_at == datetime(2030, 7, 1, 16, 0, tzinfo=UTC)
    assert session.speakers.get().role == "Cycling campaigner"
    page = client.get(session.get_absolute_url()).content.decode()
    assert "18:00" in page
    setup.panel[0].time_zone = "America/New_York"
    setup.panel[0].save(update_fields=["time_zone"])
    client.force_login(setup.panel[0])
    assert "12:00" in client.get(session.get_absolute_url()).content.decode()


def test_only_the_panel_and_organisers_read_and_write_the_panel_discussion(client):
    setup = make_panel()
    session = panel_services.session_schedule(
        actor=setup.organiser, assembly=setup.assembly, spec=_spec()
    )
    from commonground.discussion.selectors import target_key

    for target in (setup.assembly, session):
        url = reverse("discussion:thread", args=[target_key(target), target.pk])
        client.force_login(setup.panel[1])
        posted = client.post(url, {"body": "I think buses matter most.", "next": ""})
        assert posted.status_code == 302
        assert client.get(url).status_code == 200
        for outsider in (setup.member, setup.not_drawn, setup.dropped):
            client.force_login(outsider)
            assert client.get(url).status_code == 404
            refused = client.post(url, {"body": "Let me in.", "next": ""})
            assert refused.status_code == 404
        client.logout()
        assert client.get(url).status_code == 404
        client.force_login(setup.organiser)
        assert client.get(url).status_code == 200
    assert Comment.objects.count() == 2
    assert not Comment.objects.filter(body="Let me in.").exists()
    client.force_login(setup.member)
    page = client.get(session.get_absolute_url()).content.decode()
    assert "I think buses matter most." not in page


def test_no_panel_space_before_the_draw_for_anyone_but_organisers(client):
    setup = make_panel(status=Status.POOL_FROZEN)
    client.force_login(setup.panel[0])
    response = client.get(reverse("assemblies:session_new", args=["transport"]))
    assert response.status_code == 404
    client.force_login(setup.organiser)
    response = client.get(reverse("assemblies:session_new", args=["transport"]))
    assert response.status_code == 200


def test_the_panel_page_costs_the_same_queries_whatever_it_holds(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    setup = make_panel()
    url = reverse("assemblies:panel", args=[setup.assembly.slug])
    client.force_login(setup.panel[0])

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    panel_services.session_schedule(
        actor=setup.organiser, assembly=setup.assembly, spec=_spec()
    )
    panel_services.recommendation_draft(
        actor=setup.panel[0], assembly=setup.assembly, title="One", text="Text."
    )
    cost()  # warm the per-process caches (content types, the site's settings)
    few = cost()
    for index in range(4):
        panel_services.session_schedule(
            actor=setup.organiser,
            assembly=setup.assembly,
            spec=_spec(title=f"Session {index}"),
        )
        panel_services.recommendation_draft(
            actor=setup.panel[1], assembly=setup.assembly, title=f"R{index}", text="T"
        )
    assert cost() == few


def test_a_reported_panel_comment_stays_out_of_the_groups_moderation_queue(client):
    from commonground.discussion import services as discussion
    from commonground.discussion.selectors import moderation_queue
    from commonground.members.models import Role
    from factories import make_role

    setup = make_panel()
    moderator = make_role(setup.assembly.group, Role.MODERATOR)
    comment = discussion.comment_post(
        author=setup.panel[0], target=setup.assembly, body="A heated remark."
    )
    discussion.comment_report(reporter=setup.panel[1], comment=comment, reason="Rude")
    assert moderation_queue(setup.assembly.group) == []
    client.force_login(moderator)
    page = client.get(
        reverse("discussion:moderation", args=[setup.assembly.group.slug])
    )
    assert "A heated remark." not in page.content.decode()
    from commonground.discussion import rules as discussion_rules

    assert not discussion_rules.can_moderate(moderator, setup.assembly)
    assert discussion_rules.can_moderate(setup.organiser, setup.assembly)


def test_materials_and_recommendations_are_safe_markdown(client):
    setup = make_panel()
    hostile = "<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>"
    session = panel_services.session_schedule(
        actor=setup.organiser,
        assembly=setup.assembly,
        spec=_spec(materials=hostile, materials_public=True),
    )
    recommendation = panel_services.recommendation_draft(
        actor=setup.panel[0], assembly=setup.assembly, title="<b>T</b>", text=hostile
    )
    for html in (session.materials_html, recommendation.text_html):
        # Shown as text, never as markup: no script, no handler, no script link.
        assert "<script" not in html and "<img" not in html
        assert 'href="javascript' not in html
    page = client.get(session.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in page
