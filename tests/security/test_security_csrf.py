"""T19: CSRF on every state-changing route; GET never writes.

The route list comes from the URL resolver, so a new route is covered as soon as it
exists. A route may only skip CSRF if it is listed in CSRF_EXEMPT with a reason.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.test import Client

pytestmark = pytest.mark.django_db

# Routes deliberately without CSRF protection (none so far): {route name: reason}.
CSRF_EXEMPT: dict[str, str] = {
    "notifications:unsubscribe": (
        "RFC 8058 one-click unsubscribe: mail clients POST without a session or a"
        " CSRF token; the signed, salted token in the URL is the protection and a bad"
        " one gets 400 (tests/notifications)"
    ),
    "newsletters:unsubscribe": (
        "RFC 8058 one-click unsubscribe of a newsletter: as above, with the signed"
        " token and the recipient row it must match; a bad one gets 400"
        " (tests/newsletters)"
    ),
    "discussion:visitor_unsubscribe": (
        "RFC 8058 one-click stop of a visitor's reply emails: mail clients POST"
        " without a session; the signed, salted token naming the comment (and the"
        " address's fingerprint) is the protection and a bad one gets 400"
        " (tests/discussion/test_discussion_visitors.py)"
    ),
    "newsletters:bounces": (
        "the bounce webhook: a mail provider posts without a session; an"
        " HMAC-SHA256 signature of the body is required instead, and a missing or"
        " bad one gets 403 (tests/newsletters)"
    ),
}


def _login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_every_route_refuses_writes_without_csrf_token(world, route_urls, method):
    client = _login(Client(enforce_csrf_checks=True), world["admin"])
    failures = []
    for route, url in route_urls:
        if route.name in CSRF_EXEMPT:
            continue
        response = getattr(client, method)(url, {"body": "x", "reason": "x"})
        if response.status_code != 403:
            failures.append(
                f"{method.upper()} {url} ({route}) -> {response.status_code}"
            )
    assert not failures, "writes accepted without a CSRF token:\n" + "\n".join(failures)


def test_anonymous_writes_without_token_are_refused(world, route_urls):
    client = Client(enforce_csrf_checks=True)
    failures = [
        f"POST {url} ({route}) -> {status}"
        for route, url in route_urls
        if route.name not in CSRF_EXEMPT
        and (status := client.post(url, {"x": "y"}).status_code) != 403
    ]
    assert not failures, "\n".join(failures)


def test_token_from_another_session_is_refused(world):
    from django.middleware.csrf import get_token
    from django.test import RequestFactory

    # A token minted for someone else's CSRF cookie.
    other_request = RequestFactory().get("/")
    foreign_token = get_token(other_request)
    client = _login(Client(enforce_csrf_checks=True), world["member"])
    client.get("/dashboard/")  # the member's own CSRF cookie
    slug = world["branch"].slug
    response = client.post(
        f"/groups/{slug}/leave/", {"csrfmiddlewaretoken": foreign_token}
    )
    assert response.status_code == 403
    from commonground.members.models import Membership

    assert (
        Membership.objects.get(user=world["member"], group=world["branch"]).status
        == "active"
    )


def test_htmx_header_token_is_accepted(world):
    """htmx sends the page's token in X-CSRFToken (base.html hx-headers)."""
    client = _login(Client(enforce_csrf_checks=True), world["member"])
    page = client.get("/dashboard/")
    token = page.context["csrf_token"]
    response = client.post(
        f"/groups/{world['branch'].slug}/leave/",
        headers={"X-CSRFToken": str(token)},
    )
    assert response.status_code == 302
    from commonground.members.models import Membership

    assert (
        Membership.objects.get(user=world["member"], group=world["branch"]).status
        == "left"
    )


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def test_crawling_every_get_route_as_admin_changes_no_rows(world, route_urls):
    client = _login(Client(), world["admin"])
    client.get("/")  # session row exists before counting
    before = _row_counts()
    errors = []
    for route, url in route_urls:
        response = client.get(url)
        if response.status_code >= 500:
            errors.append(f"GET {url} ({route}) -> {response.status_code}")
    after = _row_counts()
    changed = {
        label: (before[label], after[label])
        for label in before
        if before[label] != after[label]
    }
    assert not errors, "\n".join(errors)
    assert not changed, f"GET requests changed row counts: {changed}"
    # The crawl really reached pages as a logged-in admin.
    assert client.get("/admin/").status_code == 200


def test_every_page_gives_htmx_the_csrf_token(world):
    """base.html puts the token in hx-headers, so every htmx request carries it."""
    import json
    import re

    client = _login(Client(enforce_csrf_checks=True), world["member"])
    page = client.get("/dashboard/").content.decode()
    headers = json.loads(re.search(r"hx-headers='([^']+)'", page).group(1))
    token = headers["X-CSRFToken"]
    response = client.post(
        f"/groups/{world['branch'].slug}/leave/",
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status_code != 403
