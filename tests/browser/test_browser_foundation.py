"""Golden paths of the foundation in a real browser, with axe-core on every page.

1. A newcomer signs up, verifies the email from the captured message, joins an open
   branch and sees it on the dashboard.
2. An organiser approves an application; the applicant sees the change.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail

from commonground.members.models import Group, Membership, Role
from factories import PASSWORD, UserFactory, make_group, make_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "correct horse battery staple 2026"  # noqa: S105


def _visit(page, axe_check, path):
    page.goto(path)
    axe_check(page)


def _log_in(page, axe_check, email):
    _visit(page, axe_check, "/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in|Log in", re.I)).click()
    page.wait_for_load_state()


def test_newcomer_signs_up_verifies_email_joins_a_branch_and_sees_it(
    page, axe_check, live_server
):
    branch = make_group(name="Leeds branch", join_policy=Group.JoinPolicy.OPEN)

    _visit(page, axe_check, "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Join").click()
    page.wait_for_load_state()
    axe_check(page)
    page.get_by_label("Email").fill("newcomer@example.org")
    page.get_by_label("Your name as other members see it").fill("Nia Newcomer")
    page.locator("#id_password1").fill(NEW_PASSWORD)
    page.locator("#id_password2").fill(NEW_PASSWORD)
    page.get_by_role("button", name=re.compile("Sign up", re.I)).click()
    page.wait_for_load_state()
    axe_check(page)
    assert "verif" in page.content().lower()

    # The verification link from the captured email.
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["newcomer@example.org"]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    _visit(page, axe_check, link.group(0))
    page.get_by_role("button", name=re.compile("Confirm", re.I)).click()
    page.wait_for_load_state()
    axe_check(page)

    _visit(page, axe_check, f"/groups/{branch.slug}/")
    page.get_by_role("button", name="Join Leeds branch").click()
    page.wait_for_load_state()
    axe_check(page)
    assert page.get_by_text("You are now a member of Leeds branch.").is_visible()

    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_load_state()
    axe_check(page)
    assert page.locator("main").get_by_role("link", name="Leeds branch").is_visible()
    assert Membership.objects.get(user__email="newcomer@example.org").status == "active"


def test_organiser_approves_an_application_and_the_applicant_sees_it(
    new_page, axe_check, live_server
):
    branch = make_group(name="York branch", join_policy=Group.JoinPolicy.APPROVAL)
    organiser = make_role(branch, Role.ORGANISER)
    applicant = UserFactory(display_name="Ada Applicant")

    applicant_page = new_page()
    _log_in(applicant_page, axe_check, applicant.email)
    _visit(applicant_page, axe_check, f"/groups/{branch.slug}/")
    applicant_page.get_by_role("button", name="Apply to join York branch").click()
    applicant_page.wait_for_load_state()
    axe_check(applicant_page)
    _visit(applicant_page, axe_check, "/dashboard/")
    assert applicant_page.get_by_text("application pending").is_visible()

    organiser_page = new_page()
    _log_in(organiser_page, axe_check, organiser.email)
    _visit(organiser_page, axe_check, "/dashboard/")
    organiser_page.get_by_role("link", name="York branch").first.click()
    organiser_page.wait_for_load_state()
    axe_check(organiser_page)
    _visit(organiser_page, axe_check, f"/groups/{branch.slug}/manage/")
    organiser_page.get_by_role("button", name="Approve Ada Applicant").click()
    organiser_page.wait_for_load_state()
    axe_check(organiser_page)
    assert organiser_page.get_by_text("Application approved.").is_visible()

    applicant_page.reload()
    axe_check(applicant_page)
    assert applicant_page.get_by_text("application pending").count() == 0
    item = applicant_page.locator(
        "main li", has=applicant_page.get_by_role("link", name="York branch")
    )
    assert "active" in item.inner_text().lower()
    assert Membership.objects.get(user=applicant, group=branch).status == "active"


def test_axe_check_fails_on_serious_violations(page, axe_check):
    """The harness itself: a page with an unlabelled field and an image without
    text must make axe_check fail, naming the rules."""
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<img src="data:,"><input type="text"></main></body></html>'
    )
    with pytest.raises(pytest.fail.Exception) as failure:
        axe_check(page)
    assert "image-alt" in str(failure.value)
    assert "label" in str(failure.value)
