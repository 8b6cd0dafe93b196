"""Nothing links a pseudonym to a person except for that person and the
assembly's organisers: every page, file and export is checked as an anonymous
visitor, another member, a panel member, the person themself and an organiser."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from assemblies.assembly_support import POOL, open_assembly, register, run_draw
from commonground.assemblies import selectors, services
from commonground.assemblies.models import PanelSeat
from commonground.core.capabilities import exported_sections

pytestmark = pytest.mark.django_db

NAMES = [
    "Amara Quist",
    "Bartholomew Rye",
    "Cosima Vale",
    "Dagny Wren",
    "Eilidh Yarrow",
    "Fenella Zorn",
    "Gideon Ash",
    "Horatio Birch",
    "Ignatius Cole",
    "Jasper Dunne",
    "Kenji Ellory",
    "Lorcan Finch",
]


def _chunks(html: str) -> list[str]:
    """Rows, list items, definition pairs and paragraphs: the units a reader would
    take as one statement about one person."""
    return re.split(r"<tr|<li|<dt|<p[ >]|<h\d", html)


def _links(html: str, people, *, except_for=()) -> list[str]:
    found = []
    for chunk in _chunks(html):
        for person in people:
            if person.pk in except_for:
                continue
            if person.pseudonym in chunk and (
                (person.name and person.name in chunk) or person.email in chunk
            ):
                found.append(person.name)
    return found


@pytest.fixture
def drawn(group, organiser, members):
    assembly = open_assembly(group, organiser)
    people = []
    for i, ((gender, age), name) in enumerate(zip(POOL, NAMES, strict=True)):
        user = members[i] if i < len(members) else None
        people.append(register(assembly, name, gender, age, user=user))
    run_draw(organiser, assembly, "1234")
    for person in people:
        person.refresh_from_db()
    return assembly, people


def _pages(client, assembly, extra=()):
    urls = [
        reverse("assemblies:detail", args=[assembly.slug]),
        reverse("assemblies:group", args=[assembly.group.slug]),
        reverse("assemblies:draw", args=[assembly.slug, 1]),
        reverse("assemblies:draw_file", args=[assembly.slug, 1, "pool"]),
        reverse("assemblies:draw_file", args=[assembly.slug, 1, "quotas"]),
        reverse("assemblies:draw_file", args=[assembly.slug, 1, "lottery"]),
        reverse("assemblies:draw_file", args=[assembly.slug, 1, "probabilities"]),
        reverse("assemblies:pool", args=[assembly.slug]),
        reverse("assemblies:my_page", args=[assembly.slug]),
        *extra,
    ]
    pages = {}
    for url in urls:
        response = client.get(url)
        if response.status_code == 200:
            pages[url] = response.content.decode()
    return pages


def test_anonymous_visitor_sees_pseudonyms_and_consenting_names_never_linked(
    client, drawn
):
    assembly, people = drawn
    pages = _pages(client, assembly)
    draw_page = pages[reverse("assemblies:draw", args=[assembly.slug, 1])]
    # Published: every pseudonym with its probability, and names of the panel.
    assert all(p.pseudonym in draw_page for p in people)
    seated = [s.registrant for s in PanelSeat.objects.select_related("registrant")]
    assert all(r.name in draw_page for r in seated)
    assert reverse("assemblies:pool", args=[assembly.slug]) not in pages
    for url, html in pages.items():
        assert _links(html, people) == [], url
        assert not any(p.email in html for p in people), url
        assert not any(p.name in html for p in people if p not in seated), url


def test_names_are_published_only_with_consent(client, group, organiser):
    assembly = open_assembly(group, organiser)
    people = [
        register(assembly, name, gender, age, publish_name=False)
        for (gender, age), name in zip(POOL, NAMES, strict=True)
    ]
    run_draw(organiser, assembly, "7")
    for html in _pages(client, assembly).values():
        assert not any(p.name in html for p in people)


def test_another_member_and_a_panel_member_see_no_links_but_their_own(
    client, drawn, members
):
    assembly, people = drawn
    by_user = {p.user_id: p for p in people if p.user_id}
    seated_ids = set(PanelSeat.objects.values_list("registrant_id", flat=True))
    panel_member = next(p for p in people if p.pk in seated_ids and p.user_id)
    bystander = next(p for p in people if p.pk not in seated_ids and p.user_id)
    for person in (panel_member, bystander):
        client.force_login(person.user)
        pages = _pages(client, assembly)
        for url, html in pages.items():
            assert _links(html, people, except_for={person.pk}) == [], url
        mine = pages[reverse("assemblies:my_page", args=[assembly.slug])]
        assert person.pseudonym in mine
        chance = selectors.registrant_standing(person).probabilities[0][1]
        assert f"{chance:.6f}" in mine
        others = [p for p in people if p.pk != person.pk]
        assert not any(p.pseudonym in mine for p in others)
    assert by_user


def test_the_person_without_an_account_sees_their_own_link_by_token(client, drawn):
    assembly, people = drawn
    person = next(p for p in people if p.user_id is None)
    url = reverse("assemblies:my_page_token", args=[services.page_token(person)])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("private")
    html = response.content.decode()
    assert person.pseudonym in html
    assert _links(html, people, except_for={person.pk}) == []


def test_organisers_see_the_mapping(client, drawn, organiser):
    assembly, people = drawn
    client.force_login(organiser)
    pages = _pages(client, assembly)
    pool = pages[reverse("assemblies:pool", args=[assembly.slug])]
    assert sorted(_links(pool, people)) == sorted(p.name for p in people)
    # ... with each person's chance beside their name.
    draw = assembly.draws.get()
    first = min(people, key=lambda p: p.name)
    row = next(c for c in _chunks(pool) if first.name in c and first.pseudonym in c)
    assert f"{draw.result['probabilities'][first.pseudonym]:.6f}" in row


def test_personal_data_export_holds_only_the_members_own_registration(drawn, members):
    _assembly, people = drawn
    export = exported_sections(members[0])["assemblies"]
    assert len(export) == 1
    own = next(p for p in people if p.user_id == members[0].pk)
    assert export[0]["pseudonym"] == own.pseudonym
    text = repr(exported_sections(members[0]))
    assert not any(p.pseudonym in text for p in people if p.pk != own.pk)


def test_erasing_an_account_keeps_the_draw_rerunnable(drawn, members):
    _assembly, people = drawn
    own = next(p for p in people if p.user_id == members[0].pk)
    services.member_forget(members[0])
    own.refresh_from_db()
    assert (own.name, own.user_id) == ("", None)
    assert members[0].email not in own.email
    assert own.pseudonym and own.features
