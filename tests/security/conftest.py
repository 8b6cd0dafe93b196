"""Shared set-up for the security scenarios (spec reliability.md, T19/T26/T27 + fuzzing).

``routes`` is built from Django's URL resolver, so every route any app adds later is
covered without editing these tests. ``world`` creates one object of each kind so
that routes with ids point at real rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.regex_helper import normalize

_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    """One URL pattern: its name and a template like ``groups/{slug}/join/``."""

    name: str | None
    template: str
    params: tuple[str, ...]
    converters: tuple[tuple[str, str], ...]

    def url(self, values: dict[str, Any]) -> str:
        filled = self.template
        for param in self.params:
            filled = filled.replace("{" + param + "}", str(values[param]), 1)
        return "/" + filled

    def __str__(self) -> str:
        return self.name or self.template


def _pattern_template(pattern: Any) -> tuple[str, list[str], list[tuple[str, str]]]:
    if isinstance(pattern, RoutePattern):
        text = str(pattern)
        params, converters = [], []

        def replace(match: re.Match[str]) -> str:
            params.append(match["name"])
            converters.append((match["name"], match["converter"] or "str"))
            return "{" + match["name"] + "}"

        return _ROUTE_PARAM.sub(replace, text), params, converters
    assert isinstance(pattern, RegexPattern)
    text, params = normalize(pattern.regex.pattern)[0]
    template = re.sub(r"%\((\w+)\)s", r"{\1}", text)
    return template, list(params), [(p, "regex") for p in params]


def _walk(
    patterns: list[Any], prefix: str, params: list[str], converters: list, ns: str
):
    for entry in patterns:
        template, own_params, own_converters = _pattern_template(entry.pattern)
        if isinstance(entry, URLResolver):
            namespace = f"{ns}{entry.namespace}:" if entry.namespace else ns
            yield from _walk(
                entry.url_patterns,
                prefix + template,
                params + own_params,
                converters + own_converters,
                namespace,
            )
        elif isinstance(entry, URLPattern):
            yield Route(
                name=f"{ns}{entry.name}" if entry.name else None,
                template=prefix + template,
                params=tuple(params + own_params),
                converters=tuple(converters + own_converters),
            )


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns, "", [], [], ""))


@pytest.fixture
def routes() -> list[Route]:
    return all_routes()


@pytest.fixture
def world(db):
    """An organisation with an open and an approval branch, an admin (staff,
    superuser, group admin, with TOTP), an organiser, members, an application, a role
    assignment and a comment: the objects the routes' ids point at."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from commonground.discussion.models import Comment
    from commonground.members.models import Group, Membership, Role, RoleAssignment
    from factories import UserFactory, make_group, make_member, make_role

    national = make_group(name="National", kind=Group.Kind.NATIONAL)
    branch = make_group(
        parent=national, name="Leeds", join_policy=Group.JoinPolicy.OPEN
    )
    approval = make_group(parent=national, name="York")
    admin = UserFactory(is_staff=True, is_superuser=True, display_name="Admin")
    make_member(national, user=admin)
    make_role(national, Role.ADMIN, user=admin)
    TOTP.activate(admin, generate_totp_secret())
    organiser = make_role(branch, Role.ORGANISER)
    member = make_member(branch)
    applicant = make_member(approval, status=Membership.Status.APPLIED)
    comment = Comment.objects.create(
        content_type=ContentType.objects.get_for_model(Group),
        object_id=str(branch.pk),
        author=member,
        body="hello",
        body_html="<p>hello</p>",
        created_at=timezone.now(),
    )
    # Let groups have discussions here, so the discussion routes reach their views.
    from commonground.discussion import rules
    from commonground.members.selectors import viewer_for

    class GroupDiscussion:
        def can_read(self, user, target):
            return target.is_public or viewer_for(user, target).is_member

        def can_post(self, user, target):
            return viewer_for(user, target).is_member

        def group_for(self, target):
            return target

    rules.register_rule(Group, GroupDiscussion())
    yield {
        "national": national,
        "branch": branch,
        "approval": approval,
        "admin": admin,
        "organiser": organiser,
        "member": member,
        "applicant": applicant,
        "application": Membership.objects.get(user=applicant, group=approval),
        "assignment": RoleAssignment.objects.get(user=organiser, group=branch),
        "comment": comment,
        "group_content_type": ContentType.objects.get_for_model(Group),
    }
    rules.unregister_rule(Group)


def sample_values(world: dict[str, Any], route: Route) -> dict[str, Any]:
    """Real values for a route's parameters, by parameter name and route."""
    name = route.name or ""
    values: dict[str, Any] = {}
    for param, converter in route.converters:
        if param == "slug":
            values[param] = world["branch"].slug
        elif param == "membership_id":
            values[param] = world["application"].pk
        elif param == "assignment_id":
            values[param] = world["assignment"].pk
        elif param == "comment_id":
            values[param] = world["comment"].pk
        elif param == "action":
            values[param] = "report" if name.startswith("discussion:") else "approve"
        elif param == "key" and name.startswith("discussion:"):
            values[param] = "members.group"
        elif param == "content_type_id":
            values[param] = world["group_content_type"].pk
        elif param == "object_id":
            values[param] = (
                world["branch"].pk
                if name.startswith("discussion:")
                else world["admin"].pk
            )
        elif param == "app_label":
            values[param] = "auth"
        elif converter == "uuid":
            values[param] = "00000000-0000-4000-8000-000000000001"
        elif (
            converter in {"int", "regex"}
            and param in {"pk", "id"}
            or converter == "int"
        ):
            values[param] = 1
        else:
            values[param] = "x"
    return values


def _login(client: Any, user: Any) -> Any:
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def route_urls(world: dict[str, Any], routes: list[Route]) -> list[tuple[Route, str]]:
    """Every route with its parameters filled from ``world``."""
    return [(route, route.url(sample_values(world, route))) for route in routes]


@pytest.fixture
def values_for(world: dict[str, Any]):
    """``values_for(route)``: real values for the route's parameters."""
    return lambda route: sample_values(world, route)
