"""run_action: one service call from a view, its message and where the member goes next."""

from __future__ import annotations

import pytest
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory

from commonground.core.actions import RefusalPage, run_action


class Refused(Exception):
    """A refusal type of the caller's own (as an app's services raise)."""


LOCMEM_TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {
            "loaders": [
                (
                    "django.template.loaders.locmem.Loader",
                    {"refused.html": "Not allowed: {{ message }} [{{ back }}]"},
                )
            ]
        },
    }
]


@pytest.fixture
def post():
    request = RequestFactory().post("/things/1/close/")
    request._messages = CookieStorage(request)
    return request


def shown(request) -> list[tuple[int, str]]:
    return [(message.level, message.message) for message in request._messages]


def fail(error: Exception):
    def action() -> None:
        raise error

    return action


def test_success_runs_the_action_says_so_and_redirects(post):
    calls = []
    response = run_action(
        post,
        lambda: calls.append("closed"),
        success_message="Closed.",
        redirect_to="/things/1/",
    )
    assert calls == ["closed"]
    assert response.status_code == 302
    assert response["Location"] == "/things/1/"
    assert shown(post) == [(messages.SUCCESS, "Closed.")]


def test_success_without_a_message_only_redirects(post):
    response = run_action(
        post, lambda: None, success_message=None, redirect_to="/things/1/"
    )
    assert response.status_code == 302
    assert response["Location"] == "/things/1/"
    assert shown(post) == []


def test_a_refusal_shows_its_text_as_an_error_and_redirects_to_the_same_place(
    post,
):
    response = run_action(
        post,
        fail(Refused("The ballot is closed.")),
        success_message="Closed.",
        redirect_to="/things/1/",
        refusals=(Refused,),
    )
    assert response.status_code == 302
    assert response["Location"] == "/things/1/"
    assert shown(post) == [(messages.ERROR, "The ballot is closed.")]


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (ValidationError(["Too long.", "Too rude."]), "Too long. Too rude."),
        (
            PermissionDenied("only organisers can do this"),
            "only organisers can do this",
        ),
        (PermissionDenied(), "You cannot do this."),
    ],
)
def test_default_refusals_are_permission_and_validation_errors(post, error, text):
    response = run_action(
        post, fail(error), success_message="Closed.", redirect_to="/things/1/"
    )
    assert response.status_code == 302
    assert response["Location"] == "/things/1/"
    assert shown(post) == [(messages.ERROR, text)]


def test_an_exception_that_is_not_a_refusal_propagates(post):
    with pytest.raises(Refused):
        run_action(
            post,
            fail(Refused("boom")),
            success_message="Closed.",
            redirect_to="/things/1/",
        )
    assert shown(post) == []


def test_permission_denied_renders_the_refusal_page_with_403_when_given(post, settings):
    settings.TEMPLATES = LOCMEM_TEMPLATES
    response = run_action(
        post,
        fail(PermissionDenied("moderators only")),
        success_message="Removed.",
        redirect_to="/thread/#comment-3",
        forbidden_page=RefusalPage(template="refused.html", back="/thread/"),
    )
    assert response.status_code == 403
    assert response.content.decode() == "Not allowed: moderators only [/thread/]"
    assert shown(post) == []


def test_a_validation_error_still_redirects_when_a_refusal_page_is_given(post):
    response = run_action(
        post,
        fail(ValidationError("Already removed.")),
        success_message="Removed.",
        redirect_to="/thread/#comment-3",
        forbidden_page=RefusalPage(template="refused.html", back="/thread/"),
    )
    assert response.status_code == 302
    assert response["Location"] == "/thread/#comment-3"
    assert shown(post) == [(messages.ERROR, "Already removed.")]
