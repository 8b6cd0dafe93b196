"""Importing a membership register in a real browser, with the keyboard only from the
column mapping on, and axe-core on every page: the admin uploads a file, corrects
three guessed columns, checks the file, reads the dry-run report and imports it."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.test import Client

from commonground.members.models import Group, Membership, Role, User
from commonground.onboarding.models import ImportJob
from factories import OrganisationFactory, make_group, make_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# "Contact" and "Area" are not names the import knows; "Notes" should stay out.
REGISTER = (
    "Contact,E-mail,Area,Branch,Notes\r\n"
    "Ann Lee,ann@example.net,LS6 1AB,leeds,prefers text\r\n"
    "Bo Ng,bo@example.net,YO1 7HH,,\r\n"
)


def _tab_to(page, locator, limit=80):
    """Press Tab until ``locator`` has the focus; fail if it never does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("node => node === document.activeElement"):
            return
    pytest.fail(f"never reached {locator} with Tab")


def _signed_in(page, live_server, user):
    """A session for ``user`` (an admin with a second factor), as a cookie."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": cookie,
                "url": live_server.url,
            }
        ]
    )


def _choose(page, select_id, typed):
    """Pick an option of a closed select by typing its first letters."""
    select = page.locator(f"#{select_id}")
    _tab_to(page, select)
    page.keyboard.type(typed, delay=30)
    return select.input_value()


def test_admin_maps_the_columns_and_reaches_the_dry_run_report_by_keyboard(
    page, axe_check, live_server, tmp_path
):
    organisation = OrganisationFactory(name="Renters Union", slug="renters")
    national = make_group(
        organisation=organisation, name="Renters national", kind=Group.Kind.NATIONAL
    )
    leeds = make_group(parent=national, name="Leeds branch")
    Group.objects.filter(pk=leeds.pk).update(slug="leeds")
    admin = make_role(national, Role.ADMIN)
    Authenticator.objects.create(
        user=admin, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    _signed_in(page, live_server, admin)

    page.goto(f"/onboarding/{national.slug}/")
    axe_check(page)
    assert page.title().startswith("Membership register · Renters Union")
    register = tmp_path / "register.csv"
    register.write_text(REGISTER, encoding="utf-8")
    page.get_by_label("Register file").set_input_files(str(register))
    upload = page.get_by_role("button", name="Upload and choose the columns")
    upload.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/mapping/")
    axe_check(page)
    assert page.title().startswith("Choose the columns of register.csv")
    table = page.get_by_role(
        "table", name="Columns of register.csv and what each holds"
    )
    assert table.get_by_role("combobox").count() == 5
    # Each select is named by its column's row header.
    assert page.get_by_label("B · E-mail").input_value() == "email"

    page.locator("body").focus()
    assert _choose(page, "id_column_0", "Full") == "name"
    assert _choose(page, "id_column_2", "Post") == "postcode"
    assert _choose(page, "id_column_4", "Don") == ""
    check = page.get_by_role("button", name="Check the file")
    _tab_to(page, check)
    page.keyboard.press("Enter")
    page.wait_for_url("**/imports/*/")
    page.get_by_role("table", name="What the import will do").wait_for()
    axe_check(page)
    assert page.get_by_text("The check found no problems in 2 rows.").is_visible()
    job = ImportJob.objects.get()
    assert job.mapping == ["name", "email", "postcode", "branch", ""]
    assert User.objects.filter(email__endswith="@example.net").count() == 0

    apply = page.get_by_role("button", name="Import 2 rows")
    _tab_to(page, apply)
    page.keyboard.press("Enter")
    page.get_by_role("table", name="What the import did").wait_for()
    axe_check(page)
    assert Membership.objects.get(user__email="ann@example.net").group.slug == "leeds"
    assert Membership.objects.get(user__email="bo@example.net").group == national
