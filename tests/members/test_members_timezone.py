"""The member's time zone: chosen on the profile, guessed from the browser, applied to
every page by TimeZoneMiddleware."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from commonground.members.forms import SignupDetailsForm
from commonground.members.middleware import TimeZoneMiddleware
from commonground.members.models import User
from factories import UserFactory

pytestmark = pytest.mark.django_db

# 17:30 UTC is 18:30 in Berlin (CET, UTC+1, in December).
NOW = dt.datetime(2026, 12, 4, 17, 30, tzinfo=dt.UTC)


def _profile_form(user: User, **changes: str) -> dict[str, str]:
    return {
        "display_name": user.display_name,
        "visibility": user.visibility,
        "time_zone": "",
        **changes,
    }


def _zone_seen(request) -> str:
    seen: dict[str, str] = {}

    def view(request):
        seen["zone"] = timezone.get_current_timezone_name()
        return HttpResponse()

    TimeZoneMiddleware(view)(request)
    return seen["zone"]


def test_the_profile_saves_a_known_zone(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post("/me/", _profile_form(user, time_zone="Europe/Berlin"))
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.time_zone == "Europe/Berlin"


def test_the_profile_refuses_an_unknown_zone_with_a_field_error(client):
    user = UserFactory(time_zone="Europe/Paris")
    client.force_login(user)
    response = client.post("/me/", _profile_form(user, time_zone="Mars/Olympus_Mons"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["time_zone"]
    assert "is not a time zone we know" in errors["time_zone"][0]
    user.refresh_from_db()
    assert user.time_zone == "Europe/Paris"


def test_a_member_in_berlin_sees_a_fixed_utc_time_in_berlin_time(client):
    user = UserFactory(time_zone="Europe/Berlin")
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        page = client.get("/me/").content.decode()
    assert "Dates are shown in Europe/Berlin: it is now 4 Dec 2026, 18:30." in page


def test_a_member_without_a_zone_sees_the_browser_guess_then_their_choice(client):
    user = UserFactory(time_zone="")
    client.force_login(user)
    client.cookies["tz"] = "America/New_York"
    with time_machine.travel(NOW, tick=False):
        page = client.get("/me/").content.decode()
        assert "in America/New_York: it is now 4 Dec 2026, 12:30." in page
        User.objects.filter(pk=user.pk).update(time_zone="Asia/Tokyo")
        page = client.get("/me/").content.decode()
    # The member's choice wins over the browser's guess.
    assert "in Asia/Tokyo: it is now 5 Dec 2026, 02:30." in page


def test_the_cookie_guess_applies_for_anonymous_visitors():
    request = RequestFactory().get("/", HTTP_COOKIE="tz=Europe/Berlin")
    request.user = AnonymousUser()
    assert _zone_seen(request) == "Europe/Berlin"


@pytest.mark.parametrize(
    "cookie", ["Nowhere/Atlantis", "../../etc/passwd", "", "europe/berlin"]
)
def test_the_middleware_ignores_a_bogus_cookie(cookie):
    request = RequestFactory().get("/")
    request.COOKIES["tz"] = cookie
    request.user = AnonymousUser()
    assert _zone_seen(request) == settings.TIME_ZONE


def test_the_zone_is_deactivated_after_the_request():
    request = RequestFactory().get("/", HTTP_COOKIE="tz=Asia/Kolkata")
    request.user = AnonymousUser()
    assert _zone_seen(request) == "Asia/Kolkata"
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE


def test_the_middleware_runs_after_authentication():
    middleware = settings.MIDDLEWARE
    assert middleware.index(
        "commonground.members.middleware.TimeZoneMiddleware"
    ) > middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")


def test_sign_up_takes_the_browser_zone_as_the_first_guess():
    user = UserFactory(time_zone="")
    form = SignupDetailsForm({"display_name": "Ada"})
    assert form.is_valid()
    request = RequestFactory().post("/accounts/signup/", HTTP_COOKIE="tz=Europe/Lisbon")
    form.signup(request, user)
    user.refresh_from_db()
    assert (user.display_name, user.time_zone) == ("Ada", "Europe/Lisbon")

    bogus = RequestFactory().post("/accounts/signup/", HTTP_COOKIE="tz=Not/AZone")
    form.signup(bogus, user)
    user.refresh_from_db()
    assert user.time_zone == ""


def test_the_profile_page_loads_the_browser_guess_script(client):
    client.force_login(UserFactory())
    page = client.get("/me/").content.decode()
    assert "js/timezone.js" in page
    assert "data-timezone-guess" in page


def test_a_stored_utc_time_is_shown_in_the_members_zone_on_the_group_log(client):
    from factories import make_group, make_member

    # 23:30 UTC on 4 December is 00:30 on 5 December in Berlin.
    with time_machine.travel(dt.datetime(2026, 12, 4, 23, 30, tzinfo=dt.UTC)):
        group = make_group(name="Berlin branch")
    member = make_member(group, UserFactory(time_zone="Europe/Berlin"))
    client.force_login(member)
    page = client.get(f"/groups/{group.slug}/log/").content.decode()
    assert "5 Dec 2026" in page and "00:30" in page
    assert "23:30" not in page


def test_the_zone_is_part_of_the_personal_data_export_and_removed_on_deletion():
    from commonground.members import services

    user = UserFactory(time_zone="Europe/Berlin")
    assert services.account_export(user=user)["profile"]["time_zone"] == (
        "Europe/Berlin"
    )
    services.account_delete(user=user)
    user.refresh_from_db()
    assert user.time_zone == ""
