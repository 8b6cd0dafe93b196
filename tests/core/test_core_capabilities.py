"""The capability registry: every platform app declares itself once, and the pages read it."""

from __future__ import annotations

import pytest
from django.apps import apps

from commonground.core import capabilities

# Apps that are the platform's ground floor or the project itself, not capabilities.
NOT_CAPABILITIES = {"commonground.core", "commonground.audit", "commonground.site"}


IRREGULAR_PAST = {"sent", "withdrawn"}


def _platform_apps():
    return [
        config.name
        for config in apps.get_app_configs()
        if config.name.startswith("commonground.")
        and config.name not in NOT_CAPABILITIES
    ]


def test_every_installed_platform_app_registers_one_capability():
    names = _platform_apps()
    assert names  # members, discussion, decisions at least
    for name in names:
        capability = capabilities.capability_for(name)
        assert capability is not None, f"{name} registers no capability in ready()"
        assert capability.app == name


def test_every_recorded_action_is_past_tense_and_labelled():
    for capability in capabilities.registered():
        for action, label in capability.audit_actions.items():
            noun, verb = action.split(".", 1)
            words = verb.split("_")
            assert noun and any(
                word.endswith(("ed", "en")) or word in IRREGULAR_PAST for word in words
            ), action
            assert str(label)
        for old, current in capability.audit_aliases.items():
            assert current in capability.audit_actions, (old, current)


def test_retired_action_names_keep_their_labels():
    labels = capabilities.audit_action_labels()
    assert labels["membership.approve"] == labels["membership.approved"]
    assert capabilities.current_action_name("comment.remove") == "comment.removed"
    assert capabilities.current_action_name("election.opened") == "election.opened"


def test_registering_again_replaces_and_unregister_forgets():
    first = capabilities.Capability(
        app="tests.extra", audit_actions={"thing.done": "did a thing"}
    )
    second = capabilities.Capability(
        app="tests.extra", audit_actions={"thing.done": "did it again"}
    )
    try:
        capabilities.register(first)
        capabilities.register(second)
        assert capabilities.audit_action_labels()["thing.done"] == "did it again"
    finally:
        capabilities.unregister("tests.extra")
    assert "thing.done" not in capabilities.audit_action_labels()


def test_dashboard_panels_and_group_sections_come_in_order():
    panels = [panel.key for panel in capabilities.dashboard_panels()]
    assert panels == ["memberships", "applications", "decisions", "assembly_panels"]
    sections = [section.key for section in capabilities.group_sections()]
    assert sections == [
        "decisions",
        "conversations",
        "assemblies",
        "articles",
        "members",
        "log",
        "newsletters",
        "moderation",
        "manage",
        "register",
    ]


@pytest.mark.django_db
def test_demo_seeds_run_in_installed_apps_order():
    seeds = capabilities.demo_seeds()
    modules = [seed.__module__ for seed in seeds]
    assert modules == [
        "commonground.members.demo",
        "commonground.publishing.demo",
        "commonground.decisions.demo",
        "commonground.conversations.demo",
        "commonground.assemblies.demo",
    ]


@pytest.mark.django_db
def test_section_counts_cost_no_query_once_cached_whatever_the_number_of_apps(
    django_assert_num_queries,
):
    from commonground.members.selectors import viewer_for
    from factories import make_group

    group = make_group(name="Leeds branch")
    calls = []

    def counted(group, viewer):
        calls.append(1)
        return 7

    extra = [
        capabilities.GroupSection(
            key=f"extra{n}",
            label=f"Extra {n}",
            url_name="members:group",
            visible=lambda viewer: True,
            count=counted,
        )
        for n in range(5)
    ]
    capabilities.register(
        capabilities.Capability(app="tests.extra", group_sections=tuple(extra))
    )
    try:
        from django.contrib.auth.models import AnonymousUser

        viewer = viewer_for(AnonymousUser(), group)
        first = capabilities.group_links_for(group, viewer, with_counts=True)
        assert [
            link.get("count") for link in first if link["key"].startswith("extra")
        ] == [7] * 5
        with django_assert_num_queries(0):
            again = capabilities.group_links_for(group, viewer, with_counts=True)
        assert again == first and len(calls) == 5
    finally:
        capabilities.unregister("tests.extra")
