"""A group's home: one navigation bar fed by the capability registry, what needs the
member now, recent activity, breadcrumbs, the group switcher and people in roles."""

from __future__ import annotations

import pytest
from django.utils import timezone

from commonground.core import capabilities
from commonground.members.models import Group, Role
from factories import UserFactory, make_group, make_member, make_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def extra_section():
    """A capability of a test app: a section for members only, counting its calls."""
    calls = []

    def count(group, viewer):
        calls.append(("count", group.pk))
        return 7

    def overview(group, viewer):
        calls.append(("overview", group.pk))
        return capabilities.GroupOverview(
            needs_you=[
                capabilities.NeedsYou(
                    text="Answer the survey", url="/survey/", due=timezone.now()
                )
            ],
            activity=[
                capabilities.Activity(when=timezone.now(), text="Survey started")
            ],
        )

    capabilities.register(
        capabilities.Capability(
            app="tests.surveys",
            group_sections=(
                capabilities.GroupSection(
                    key="surveys",
                    label="Surveys",
                    url_name="members:group_members",
                    visible=lambda viewer: viewer.is_member,
                    order=50,
                    count=count,
                    overview=overview,
                ),
            ),
        )
    )
    yield calls
    capabilities.unregister("tests.surveys")


def test_an_apps_section_count_and_items_appear_for_those_who_may_see_it(
    client, extra_section
):
    group = make_group(name="Leeds branch")
    client.force_login(make_member(group))
    page = client.get(f"/groups/{group.slug}/").content.decode()
    assert "Surveys" in page and '<span class="badge">7</span>' in page
    assert "Answer the survey" in page and "Survey started" in page
    assert ("count", group.pk) in extra_section
    assert ("overview", group.pk) in extra_section


def test_a_section_the_viewer_may_not_see_is_not_listed_nor_counted(
    client, extra_section
):
    group = make_group(name="Leeds branch")
    client.force_login(UserFactory())
    page = client.get(f"/groups/{group.slug}/").content.decode()
    assert "Surveys" not in page and "Answer the survey" not in page
    assert extra_section == []


def test_group_home_has_breadcrumbs_switcher_and_people_in_roles(client):
    national = make_group(name="National", kind=Group.Kind.NATIONAL)
    region = make_group(parent=national, name="North", kind=Group.Kind.REGION)
    branch = make_group(parent=region, name="Leeds")
    other = make_group(name="Policy working group")
    organiser = make_role(national, Role.ORGANISER)
    organiser.display_name = "Olu Organiser"
    organiser.save()
    member = make_member(branch)
    make_member(other, member)
    client.force_login(member)
    page = client.get(f"/groups/{branch.slug}/").content.decode()
    crumbs = page[page.index('class="breadcrumbs"') :]
    assert crumbs.index("National") < crumbs.index("North") < crumbs.index("Leeds")
    assert "Switch group" in page and f"/groups/{other.slug}/" in page
    assert "Olu Organiser" in page and "(National)" in page
    # Sections the member may see, in order; organiser tools are not among them.
    assert page.index("Overview") < page.index("Proposals and ballots")
    assert "Organiser tools" not in page


def test_organisers_see_applications_waiting_as_a_count_and_a_task(client):
    group = make_group(name="Leeds")
    organiser = make_role(group, Role.ORGANISER)
    for _ in range(2):
        from commonground.members import services

        services.membership_join(user=UserFactory(), group=group)
    client.force_login(organiser)
    page = client.get(f"/groups/{group.slug}/").content.decode()
    assert "2 applications to join wait for a decision." in page
    tools = page[page.index("Organiser tools") :]
    assert tools.split("</a>")[0].endswith('<span class="badge">2</span>')


def test_a_coalition_group_shows_its_affiliates(client):
    from commonground.members.models import Organisation
    from factories import OrganisationFactory

    party = OrganisationFactory(name="New People's Party")
    union = OrganisationFactory(name="Renters' Union")
    coalition = OrganisationFactory(kind=Organisation.Kind.COALITION)
    coalition.affiliates.set([party, union])
    assembly = make_group(organisation=coalition, kind=Group.Kind.COALITION)
    page = client.get(f"/groups/{assembly.slug}/").content.decode()
    section = page[page.index("Organisations working together here") :]
    assert "New People&#x27;s Party" in section and "Renters&#x27; Union" in section
    branch = make_group(organisation=party)
    assert "working together" not in client.get(f"/groups/{branch.slug}/").text
