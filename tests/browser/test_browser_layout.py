"""The layout quality bar in a real browser: the most used pages at phone, tablet and
desktop widths, in light and dark, never scroll sideways, keep the main navigation
reachable by keyboard and pass axe-core; a member ranks an STV ballot by touch."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from commonground.decisions import services
from commonground.discussion import rules as discussion_rules
from commonground.discussion import services as discussion_services
from commonground.discussion.views import thread_url
from commonground.members.models import Group, Role
from commonground.members.selectors import viewer_for
from factories import PASSWORD, make_group, make_member, make_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = (360, 768, 1280)
THEMES = ("light", "dark")
PHONE_MENU_BELOW = 768  # px: below 48rem the links sit behind the Menu button


class GroupDiscussion:
    def can_read(self, user, target):
        return target.is_public or viewer_for(user, target).is_member

    def can_post(self, user, target):
        return viewer_for(user, target).is_member

    def group_for(self, target):
        return target


@pytest.fixture(autouse=True)
def group_policy():
    discussion_rules.register_rule(Group, GroupDiscussion())
    yield
    discussion_rules.unregister_rule(Group)


def _log_in(page, email):
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def _election(organiser, group, *, title, method, closes_in, seats=1):
    now = timezone.now()
    return services.election_create(
        actor=organiser,
        group=group,
        kind="question",
        spec=services.ElectionSpec(
            title=title,
            method=method,
            seats=seats,
            options=["Ann", "Bo", "Cy", "Di"],
            opens_at=now,
            closes_at=now + closes_in,
        ),
    )


@pytest.fixture
def branch():
    """A branch with members, an organiser who moderates, an open STV ballot, a
    ballot about to close with votes in it, a proposal and a comment thread."""
    group = make_group(name="Leeds branch")
    organiser = make_role(group, Role.ORGANISER)
    make_role(group, Role.MODERATOR, user=organiser)
    voters = [make_member(group) for _ in range(4)]
    voter = make_member(group)  # on the roll, has not voted yet
    stv = _election(
        organiser,
        group,
        title="Delegates to conference",
        method="stv",
        seats=2,
        closes_in=timedelta(days=2),
    )
    counted = _election(
        organiser,
        group,
        title="Who chairs the branch?",
        method="irv",
        closes_in=timedelta(minutes=5),
    )
    for voter, order in zip(voters, [(0, 1), (1,), (2, 1), (3, 0)], strict=True):
        marks = {f"rank_{p}": str(rank) for rank, p in enumerate(order, start=1)}
        services.ballot_cast(member=voter, election=counted, marks=marks)
    proposal = services.proposal_publish(
        actor=voters[0],
        proposal=services.proposal_create(
            author=voters[0],
            group=group,
            title="Rent caps for the whole city, with a long title that has to wrap",
            text="## Why\n\n- homes are for living in\n- https://example.org/a/very/long/address/that/must/wrap/somewhere",
        ),
    )
    comment = discussion_services.comment_post(
        author=voters[1], target=group, body="We should meet on *Thursdays*"
    )
    discussion_services.comment_report(
        reporter=voters[2], comment=comment, reason="off topic"
    )
    return {
        "group": group,
        "organiser": organiser,
        "voter": voter,
        "stv": stv,
        "counted": counted,
        "proposal": proposal,
    }


def _pages(branch):
    group = branch["group"]
    return [
        "/",
        f"/groups/{group.slug}/",
        "/dashboard/",
        f"/decisions/proposals/{branch['proposal'].pk}/",
        f"/decisions/ballots/{branch['stv'].pk}/",
        f"/decisions/ballots/{branch['counted'].pk}/results/",
        thread_url(group),
        f"/discussion/groups/{group.slug}/moderation/",
        f"/groups/{group.slug}/members/",
        "/me/",
        "/styleguide/",
    ]


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _too_wide(page) -> list[str]:
    """The innermost elements that stick out past the right edge, to name the culprit."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('body *'))
          .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5
            && !Array.from(el.children).some(
              c => c.getBoundingClientRect().right > window.innerWidth + 0.5))
          .slice(0, 3)
          .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
            + (el.className && typeof el.className === 'string'
               ? '.' + el.className.trim().split(/\\s+/).join('.') : ''))"""
    )


def _first_nav_link_reached_by_keyboard(page, width: int) -> bool:
    """Tab from the top of the page to the main navigation's first link, opening
    the Menu with Enter on phones."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.locator("body").focus()
    first_link = page.locator("nav[aria-label=Main] a").first
    for _ in range(8):
        page.keyboard.press("Tab")
        active = page.evaluate(
            "(() => { const a = document.activeElement;"
            " return a ? a.tagName + '|' + (a.textContent || '').trim() : '' })()"
        )
        if active.startswith("SUMMARY"):
            page.keyboard.press("Enter")
            continue
        if first_link.evaluate("node => node === document.activeElement"):
            return first_link.is_visible()
    return False


def _check_every_page(page, axe_check, paths):
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        for theme in THEMES:
            page.emulate_media(color_scheme=theme)
            for path in paths:
                response = page.goto(path)
                assert response.status < 400, (path, response.status)
                if (overflow := _overflow(page)) > 0:
                    problems.append(
                        f"{path} at {width}px {theme}: {overflow}px wider "
                        f"({', '.join(_too_wide(page))})"
                    )
                if not _first_nav_link_reached_by_keyboard(page, width):
                    problems.append(f"{path} at {width}px: nav not reached by Tab")
                axe_check(page)
    assert problems == []


def test_most_used_pages_fit_every_width_in_both_themes_and_pass_axe(
    page, axe_check, branch, settings
):
    settings.DEBUG = True  # the style guide
    paths = _pages(branch)
    with time_machine.travel(
        branch["counted"].closes_at + timedelta(seconds=1), tick=True
    ):
        _log_in(page, branch["organiser"].email)
        _check_every_page(page, axe_check, paths)


def test_sign_in_page_fits_every_width_in_both_themes_and_passes_axe(page, axe_check):
    _check_every_page(page, axe_check, ["/accounts/login/", "/accounts/signup/"])


def test_member_ranks_an_stv_ballot_by_touch_on_a_phone(new_page, branch):
    page = new_page(
        viewport={"width": 360, "height": 740},
        has_touch=True,
        is_mobile=True,
        device_scale_factor=2,
    )
    _log_in(page, branch["voter"].email)
    page.goto(f"/decisions/ballots/{branch['stv'].pk}/")
    assert _overflow(page) <= 0
    # Tap each rank control and choose a rank, as a thumb would.
    for position, rank in ((1, "1"), (0, "2"), (3, "3")):
        control = page.locator(f"#id_rank_{position}")
        control.scroll_into_view_if_needed()
        box = control.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, box
        control.tap()
        control.select_option(rank)
    button = page.get_by_role("button", name="Cast my ballot")
    button.scroll_into_view_if_needed()
    assert button.bounding_box()["height"] >= 44
    button.tap()
    tracker = page.locator("#tracker")
    tracker.wait_for()
    assert len(tracker.inner_text().strip()) == 16
    assert _overflow(page) <= 0


def test_organiser_and_notification_pages_fit_every_width_and_pass_axe(
    page, axe_check, branch
):
    group = branch["group"]
    _log_in(page, branch["organiser"].email)
    _check_every_page(
        page,
        axe_check,
        [
            f"/groups/{group.slug}/manage/",
            f"/groups/{group.slug}/manage/structure/",
            f"/groups/{group.slug}/manage/verification/",
            "/notifications/",
            "/notifications/preferences/",
            "/me/verify/",
        ],
    )


def test_first_run_page_fits_every_width_and_passes_axe(page, axe_check, settings):
    settings.DEBUG = True
    _check_every_page(page, axe_check, ["/setup/"])
