"""Assemblies in a real browser: someone without an account registers for the pool
with the keyboard only; the organiser's pool page shows its chart and table; the
public draw page shows the published files, the result and the command to re-run
it; axe-core finds no serious or critical violation on any of them."""

from __future__ import annotations

import pytest

from assemblies.assembly_support import fill_pool, open_assembly, run_draw
from commonground.assemblies.models import Registrant
from commonground.members.models import Role
from factories import PASSWORD, make_group, make_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(page, email):
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def _tab_to(page, element_id: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == (
            element_id
        ):
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def _setup():
    group = make_group(name="Leeds branch")
    organiser = make_role(group, Role.ORGANISER)
    return group, organiser


def test_registration_with_the_keyboard_only(page, axe_check):
    group, organiser = _setup()
    assembly = open_assembly(group, organiser)
    page.goto(f"/assemblies/{assembly.slug}/register/")
    axe_check(page)
    _tab_to(page, "id_name")
    page.keyboard.type("Ada Lovelace")
    page.keyboard.press("Tab")
    page.keyboard.type("ada@example.org")
    page.keyboard.press("Tab")  # into the gender radio group: the first, "Female"
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # into the age group: "Under 40"
    page.keyboard.press("ArrowDown")  # "40 or over"
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # consent to the draw
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the name consent, to the button
    assert page.evaluate("document.activeElement.type") == "submit"
    page.keyboard.press("Enter")
    page.get_by_text("emailed you a link").wait_for()
    registrant = Registrant.objects.get()
    assert registrant.features == {"gender": "female", "age": "old"}
    assert registrant.consent_to_draw and not registrant.consent_publish_name
    axe_check(page)


def test_refused_registration_shows_errors_accessibly(page, axe_check):
    group, organiser = _setup()
    assembly = open_assembly(group, organiser)
    page.goto(f"/assemblies/{assembly.slug}/register/")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".field__error").count() >= 3
    axe_check(page)


def test_organisers_pool_chart_and_table(page, axe_check):
    group, organiser = _setup()
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    _log_in(page, organiser.email)
    page.goto(f"/assemblies/{assembly.slug}/pool/")
    charts = page.locator("svg.quota-chart")
    assert charts.count() == 2
    assert charts.first.is_visible()
    assert page.locator("svg.quota-chart rect.quota-chart__pool").count() == 4
    assert page.get_by_role("table").count() >= 2
    assert "A panel meeting every quota can be drawn" in page.content()
    axe_check(page)
    page.goto(f"/assemblies/{assembly.slug}/")
    axe_check(page)


def test_public_draw_page(page, new_page, axe_check):
    group, organiser = _setup()
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    draw = run_draw(organiser, assembly, "1234")
    page.goto(f"/assemblies/{assembly.slug}/draws/{draw.number}/")
    text = page.locator("main").inner_text()
    assert draw.pool_sha256 in text and draw.lottery_sha256 in text
    assert "commonground sortition --people pool-1.csv" in text
    page.locator("summary", has_text="Every pool member's chance of selection").click()
    assert page.get_by_role("table").first.is_visible()
    axe_check(page)
    # Without JavaScript the page is complete too.
    plain = new_page(java_script_enabled=False)
    plain.goto(f"/assemblies/{assembly.slug}/draws/{draw.number}/")
    assert draw.pool_sha256 in plain.content()


def test_draw_page_follows_the_progress_and_shows_the_result(page, monkeypatch):
    from commonground.assemblies import services
    from commonground.assemblies.services import draws as draw_services

    group, organiser = _setup()
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    draw = services.draw_commit(actor=organiser, assembly=assembly)
    # No worker picks it up: the test runs the task itself once the page polls.
    monkeypatch.setattr(draw_services, "queue_run", lambda draw_id: None)
    services.draw_start(actor=organiser, draw=draw, random_number="1234")
    page.goto(f"/assemblies/{assembly.slug}/draws/{draw.number}/")
    assert page.locator("#draw-status[hx-trigger]").count() == 1
    assert page.locator("progress").is_visible()
    services.draw_run(draw_id=draw.pk)
    page.get_by_role("heading", name="3. The result").wait_for(timeout=10_000)
    assert page.locator("#draw-status[hx-trigger]").count() == 0
