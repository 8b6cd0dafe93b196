"""Fixtures: an organisation with a national group and two branches, organisers,
members of every status, and a helper that writes and sends a newsletter."""

from __future__ import annotations

import pytest
from django.core import mail

from commonground.members.models import Group, Membership, Role
from commonground.newsletters import services
from factories import UserFactory, make_group, make_member, make_role


@pytest.fixture
def national(db):
    return make_group(name="National", kind=Group.Kind.NATIONAL)


@pytest.fixture
def leeds(national):
    return make_group(parent=national, name="Leeds")


@pytest.fixture
def york(national):
    return make_group(parent=national, name="York")


@pytest.fixture
def organiser(leeds):
    return make_role(leeds, Role.ORGANISER)


@pytest.fixture
def york_organiser(york):
    return make_role(york, Role.ORGANISER)


@pytest.fixture
def members(leeds):
    return [make_member(leeds) for _ in range(3)]


@pytest.fixture
def lapsed(leeds):
    return make_member(leeds, status=Membership.Status.LAPSED)


@pytest.fixture
def york_member(york):
    return make_member(york)


@pytest.fixture
def outsider(db):
    return UserFactory()


@pytest.fixture
def draft(organiser, leeds):
    def write(**overrides):
        fields = {
            "actor": organiser,
            "group": leeds,
            "subject": "Branch news",
            "body": "Hello **everyone**.\n\nSee [the agenda](https://example.org/a).",
            "audience_group": leeds,
            "statuses": [Membership.Status.ACTIVE],
            "roles": [],
        }
        fields.update(overrides)
        return services.newsletter_create(**fields)

    return write


@pytest.fixture
def send_now(django_capture_on_commit_callbacks):
    """Send a newsletter now, its chunk tasks running eagerly; the emails sent."""

    def send(newsletter, actor):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.newsletter_schedule(actor=actor, newsletter=newsletter)
        newsletter.refresh_from_db()
        return list(mail.outbox)

    return send
