"""Seats won without an account: an emailed invitation to sign in with the confirmed
address and take the seat; and privacy: nothing the deliberation shows links a
pseudonym to a person."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.urls import reverse

from assemblies.deliberation_support import confirm_email, make_panel
from commonground.assemblies.models import PanelWelcome
from commonground.assemblies.services import deliberation as panel_services
from commonground.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _welcome(setup, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        count = panel_services.panel_seats_welcome(assembly=setup.assembly)
    return count


def _join_url(setup):
    (message,) = mail.outbox
    path = reverse("assemblies:panel_join", args=[setup.assembly.slug, "TOKEN"])
    prefix = path.split("TOKEN")[0]
    start = message.body.index(prefix)
    return message.body[start:].split()[0]


def test_someone_seated_without_an_account_is_invited_once(
    django_capture_on_commit_callbacks,
):
    setup = make_panel()
    assert _welcome(setup, django_capture_on_commit_callbacks) == 5
    assert _welcome(setup, django_capture_on_commit_callbacks) == 0
    (message,) = mail.outbox
    assert message.to == ["walk-in@example.org"]
    assert "Person 4" in message.body
    assert "P-0004" not in message.body  # the pseudonym is never emailed
    assert PanelWelcome.objects.count() == 5


def test_signing_in_with_the_confirmed_address_takes_the_seat(
    client, django_capture_on_commit_callbacks
):
    from factories import UserFactory

    setup = make_panel()
    _welcome(setup, django_capture_on_commit_callbacks)
    url = _join_url(setup)
    anonymous = client.get(url)
    assert anonymous.status_code == 200
    assert reverse("account_login") in anonymous.content.decode()
    stranger = UserFactory()
    client.force_login(stranger)
    assert client.post(url).status_code == 403
    newcomer = UserFactory(email="newcomer@example.org")
    confirm_email(newcomer, "walk-in@example.org")
    client.force_login(newcomer)
    response = client.post(url)
    assert response.status_code == 302
    setup.accountless_seat.registrant.refresh_from_db()
    assert setup.accountless_seat.registrant.user == newcomer
    assert PanelWelcome.objects.get(seat=setup.accountless_seat).claimed_at
    space = client.get(reverse("assemblies:panel", args=[setup.assembly.slug]))
    assert "Put the drafts" not in space.content.decode()
    assert "Draft a recommendation" in space.content.decode()
    entry = AuditEntry.objects.get(action="assembly.panel_seat_taken")
    assert entry.actor_id is None
    client.force_login(stranger)
    assert client.post(url).status_code == 403  # taken


def test_a_forged_link_finds_nothing(client):
    setup = make_panel()
    url = reverse("assemblies:panel_join", args=[setup.assembly.slug, "forged"])
    assert client.get(url).status_code == 404


def test_no_deliberation_page_shows_a_pseudonym(client):
    setup = make_panel()
    session = panel_services.session_schedule(
        actor=setup.organiser,
        assembly=setup.assembly,
        spec=panel_services.SessionSpec(
            title="Opening",
            starts_at=datetime(2030, 1, 1, 10, tzinfo=UTC),
            ends_at=datetime(2030, 1, 1, 12, tzinfo=UTC),
        ),
    )
    panel_services.recommendation_draft(
        actor=setup.panel[0], assembly=setup.assembly, title="A", text="B"
    )
    pages = [
        reverse("assemblies:panel", args=[setup.assembly.slug]),
        session.get_absolute_url(),
        reverse("assemblies:recommendations", args=[setup.assembly.slug]),
    ]
    pseudonyms = [registrant.pseudonym for registrant in setup.registrants]
    for who in (None, setup.member, setup.panel[0], setup.organiser):
        if who is None:
            client.logout()
        else:
            client.force_login(who)
        for page in pages:
            body = client.get(page).content.decode()
            assert not any(p in body for p in pseudonyms), (who, page)


def test_an_organiser_sends_the_invitations_not_sent_yet(
    client, django_capture_on_commit_callbacks
):
    setup = make_panel()
    url = reverse("assemblies:panel_invite", args=[setup.assembly.slug])
    client.force_login(setup.panel[0])
    assert client.post(url).status_code == 404
    assert not mail.outbox
    client.force_login(setup.organiser)
    space = reverse("assemblies:panel", args=[setup.assembly.slug])
    assert "has not been invited yet" in client.get(space).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    assert [message.to for message in mail.outbox] == [["walk-in@example.org"]]
    assert AuditEntry.objects.get(action="assembly.panel_welcomed").actor_id == (
        setup.organiser.pk
    )
    assert "has not been invited yet" not in client.get(space).content.decode()


def test_the_data_export_holds_the_recommendations_a_member_drafted():
    from commonground.core.capabilities import exported_sections

    setup = make_panel()
    panel_services.recommendation_draft(
        actor=setup.panel[2], assembly=setup.assembly, title="Trams", text="Build."
    )
    (mine,) = exported_sections(setup.panel[2])["assembly_recommendations"]
    assert mine["title"] == "Trams" and mine["number"] == 1
    assert exported_sections(setup.panel[0])["assembly_recommendations"] == []
