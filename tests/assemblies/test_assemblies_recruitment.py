"""Recruiting the pool: the open call without an account (signed confirmation link
with expiry, honeypot, rate limit), members registering signed in, the invitation
of a reproducible random sample, refusals after the pool closes, and the
organisers' pool page with its early warning."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from assemblies.assembly_support import fill_pool, open_assembly, register
from commonground.assemblies import services
from commonground.assemblies.models import Registrant
from commonground.assemblies.services import recruitment
from commonground.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Ada Lovelace",
    "email": "ada@example.org",
    "feature_gender": "female",
    "feature_age": "young",
    "consent_to_draw": "on",
    "consent_publish_name": "on",
    "website": "",
}


def test_open_call_registers_without_an_account_and_confirms_by_email(
    client, group, organiser, django_capture_on_commit_callbacks
):
    assembly = open_assembly(group, organiser)
    url = reverse("assemblies:register", args=[assembly.slug])
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, FORM)
    assert response.status_code == 302
    registrant = Registrant.objects.get()
    assert registrant.user is None
    assert registrant.email_confirmed_at is None
    assert registrant.features == {"gender": "female", "age": "young"}
    assert len(registrant.pseudonym) == 8
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    confirm_url = next(
        line for line in body.splitlines() if "/assemblies/confirm/" in line
    )
    response = client.get(confirm_url.strip().split("testserver")[-1])
    assert response.status_code == 302
    registrant.refresh_from_db()
    assert registrant.email_confirmed_at is not None
    page = client.get(response["Location"])
    assert registrant.pseudonym in page.content.decode()


def test_confirmation_link_expires(group, organiser):
    assembly = open_assembly(group, organiser)
    registrant = register(assembly, "Late Person", "female", "old", confirm=False)
    token = recruitment.confirm_token(registrant)
    later = timezone.now() + timedelta(days=recruitment.CONFIRM_DAYS, hours=1)
    with (
        mock.patch("django.core.signing.time.time", return_value=later.timestamp()),
        pytest.raises(services.BadLink) as error,
    ):
        services.registrant_confirm(token=token)
    assert error.value.expired
    with pytest.raises(services.BadLink):
        services.registrant_confirm(token=token[:-2] + "xx")


def test_the_same_address_registers_once_and_learns_nothing(group, organiser):
    assembly = open_assembly(group, organiser)
    register(assembly, "Ada", "female", "young")
    again = services.registrant_register(
        assembly=assembly,
        actor=AnonymousUser(),
        name="Someone else",
        email="ADA@example.org",
        features={"gender": "male", "age": "old"},
        consent_to_draw=True,
    )
    assert again is None
    assert Registrant.objects.count() == 1


def test_honeypot_is_answered_like_success_and_stores_nothing(client, group, organiser):
    assembly = open_assembly(group, organiser)
    response = client.post(
        reverse("assemblies:register", args=[assembly.slug]), {**FORM, "website": "x"}
    )
    assert response.status_code == 302
    assert not Registrant.objects.exists()


def test_one_client_address_is_rate_limited(client, group, organiser):
    assembly = open_assembly(group, organiser)
    url = reverse("assemblies:register", args=[assembly.slug])
    for n in range(recruitment.RATE_LIMIT):
        assert (
            client.post(url, {**FORM, "email": f"p{n}@example.org"}).status_code == 302
        )
    response = client.post(url, {**FORM, "email": "one-more@example.org"})
    assert response.status_code == 429
    assert Registrant.objects.count() == recruitment.RATE_LIMIT


def test_registration_needs_consent_and_valid_answers(client, group, organiser):
    assembly = open_assembly(group, organiser)
    url = reverse("assemblies:register", args=[assembly.slug])
    response = client.post(url, {**FORM, "consent_to_draw": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["consent_to_draw"]
    response = client.post(url, {**FORM, "feature_age": "ancient"})
    assert response.context["form"].errors["feature_age"]
    assert not Registrant.objects.exists()


def test_registration_after_the_pool_closes_is_refused(client, group, organiser):
    closes = timezone.now() + timedelta(days=1)
    assembly = open_assembly(group, organiser, recruitment_closes_at=closes)
    url = reverse("assemblies:register", args=[assembly.slug])
    later = closes + timedelta(minutes=1)
    with mock.patch.object(services.clock, "now", return_value=later):
        response = client.post(url, FORM)
        assert response.status_code == 403
        assert "closed" in response.content.decode()
        with pytest.raises(services.AssemblyRefused):
            register(assembly, "Too Late", "female", "young")
    assert not Registrant.objects.exists()


def test_registration_after_the_freeze_is_refused(client, group, organiser):
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    pending = register(assembly, "Pending", "male", "old", confirm=False)
    services.draw_commit(actor=organiser, assembly=assembly)
    response = client.post(reverse("assemblies:register", args=[assembly.slug]), FORM)
    assert response.status_code == 403
    with pytest.raises(services.AssemblyRefused):
        services.registrant_confirm(token=recruitment.confirm_token(pending))
    with pytest.raises(services.AssemblyRefused):
        services.registrant_withdraw(registrant=pending)


def test_member_registers_signed_in_with_their_account(
    client, group, organiser, members
):
    assembly = open_assembly(group, organiser, kind="members")
    client.force_login(members[0])
    form = {k: v for k, v in FORM.items() if k != "email"}
    response = client.post(reverse("assemblies:register", args=[assembly.slug]), form)
    assert response.status_code == 302
    registrant = Registrant.objects.get()
    assert registrant.user == members[0]
    assert registrant.email == members[0].email
    assert registrant.email_confirmed_at is not None


def test_members_assembly_is_closed_to_outsiders(client, group, organiser, outsider):
    assembly = open_assembly(group, organiser, kind="members")
    client.force_login(outsider)
    form = {k: v for k, v in FORM.items() if k != "email"}
    response = client.post(reverse("assemblies:register", args=[assembly.slug]), form)
    assert response.status_code == 403
    assert not Registrant.objects.exists()


def test_invitation_sample_is_reproducible_from_the_published_seed(
    group, organiser, members
):
    assembly = open_assembly(
        group,
        organiser,
        kind="members",
        recruitment="invitation",
        invitation_size=3,
    )
    chosen = services.members_invite(
        actor=organiser, assembly=assembly, seed="lottery 2026-12-04: 7 12 33"
    )
    # Recomputed by hand from the documented rule: smallest SHA-256("seed:id").
    everyone = [organiser.pk] + [m.pk for m in members]
    keyed = sorted(
        everyone,
        key=lambda pk: hashlib.sha256(
            f"lottery 2026-12-04: 7 12 33:{pk}".encode()
        ).hexdigest(),
    )
    assert chosen == sorted(keyed[:3])
    invited = Registrant.objects.filter(invited=True)
    assert sorted(invited.values_list("user_id", flat=True)) == chosen
    assert AuditEntry.objects.filter(action="assembly.members_invited").exists()
    with pytest.raises(services.AssemblyRefused):
        services.members_invite(actor=organiser, assembly=assembly, seed="again")
    # Only the invited register; they then enter the pool.
    not_invited = next(m for m in [organiser, *members] if m.pk not in chosen)
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied
        register(assembly, "Not invited", "female", "old", user=not_invited)
    guest = invited.first().user
    registrant = register(assembly, "Invited", "female", "old", user=guest)
    assert registrant.consent_to_draw and registrant.features["age"] == "old"
    assert services.pool_queryset(assembly).count() == 1


def test_pool_page_shows_counts_against_quotas_and_the_early_warning(
    client, group, organiser
):
    assembly = open_assembly(group, organiser)
    # Only men: the women's minimum of 2 cannot be met.
    for n in range(5):
        register(assembly, f"Man {n}", "male", "young" if n % 2 else "old")
    client.force_login(organiser)
    response = client.get(reverse("assemblies:pool", args=[assembly.slug]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Early warning" in page
    assert "gender = female: lower the minimum from 2 to 0" in page
    assert "gender = male: raise the maximum from 2 to 4" in page
    assert '<svg class="quota-chart"' in page
    assert "<table" in page
    overview = response.context["overview"]
    female = overview.features[0].categories[0]
    assert (female.pool, female.short) == (0, True)
    fill_pool(assembly)
    page = client.get(reverse("assemblies:pool", args=[assembly.slug])).content.decode()
    assert "Early warning" not in page
    assert "A panel meeting every quota can be drawn" in page


def test_pool_page_is_for_organisers_only(client, group, organiser, members):
    assembly = open_assembly(group, organiser)
    url = reverse("assemblies:pool", args=[assembly.slug])
    assert client.get(url).status_code == 302  # to sign in
    client.force_login(members[0])
    assert client.get(url).status_code == 404


def test_organiser_removes_someone_from_the_pool_with_a_reason(group, organiser):
    assembly = open_assembly(group, organiser)
    person = register(assembly, "Excluded", "female", "old")
    with pytest.raises(Exception):  # noqa: B017 - ValidationError without a reason
        services.registrant_remove(actor=organiser, registrant=person, reason=" ")
    services.registrant_remove(actor=organiser, registrant=person, reason="Councillor")
    assert services.pool_queryset(assembly).count() == 0
    entry = AuditEntry.objects.get(action="assembly.registrant_removed")
    assert entry.reason == "Councillor"


def test_person_leaves_the_pool_from_their_own_page(client, group, organiser):
    assembly = open_assembly(group, organiser)
    person = register(assembly, "Leaver", "female", "old")
    url = reverse("assemblies:my_page_token", args=[services.page_token(person)])
    assert client.post(url).status_code == 302
    person.refresh_from_db()
    assert person.withdrawn_at is not None
    assert client.get(url + "x").status_code == 404


def test_signed_tokens_do_not_cross_purposes(group, organiser):
    assembly = open_assembly(group, organiser)
    person = register(assembly, "Person", "female", "old", confirm=False)
    page = services.page_token(person)
    with pytest.raises(services.BadLink):
        services.registrant_confirm(token=page)
    forged = signing.dumps({"r": person.pk, "p": "WRONG"}, salt=recruitment.PAGE_SALT)
    with pytest.raises(services.BadLink):
        services.registrant_from_page_token(forged)


def test_members_assembly_of_a_private_group_is_hidden_from_outsiders(
    client, group, organiser, outsider
):
    group.is_public = False
    group.save()
    members_only = open_assembly(group, organiser, kind="members", title="Members")
    citizens = open_assembly(group, organiser, kind="citizens", title="Citizens")
    client.force_login(outsider)
    assert (
        client.get(reverse("assemblies:detail", args=[members_only.slug])).status_code
        == 404
    )
    assert (
        client.get(reverse("assemblies:detail", args=[citizens.slug])).status_code
        == 200
    )


def test_visitors_are_asked_to_sign_in_for_a_members_pool(client, group, organiser):
    assembly = open_assembly(group, organiser, kind="members")
    page = client.get(reverse("assemblies:register", args=[assembly.slug]))
    assert "sign in to register" in page.content.decode()


def test_a_member_registering_twice_is_told_so(client, group, organiser, members):
    assembly = open_assembly(group, organiser, kind="members")
    client.force_login(members[0])
    form = {k: v for k, v in FORM.items() if k != "email"}
    url = reverse("assemblies:register", args=[assembly.slug])
    client.post(url, form)
    response = client.post(url, form, follow=True)
    assert "You were already registered." in response.content.decode()
    assert Registrant.objects.count() == 1


def test_group_overview_asks_members_to_join_and_lists_draws(group, organiser, members):
    from commonground.core.capabilities import group_overview
    from commonground.members.selectors import viewer_for

    assembly = open_assembly(group, organiser)
    overview = group_overview(group, viewer_for(members[0], group))
    assert [item.text for item in overview.needs_you] == [
        f"Join the pool of the assembly: {assembly.title}"
    ]
    register(assembly, "Member", "female", "old", user=members[0])
    assert not group_overview(group, viewer_for(members[0], group)).needs_you
    fill_pool(assembly)
    from assemblies.assembly_support import run_draw

    run_draw(organiser, assembly, "5")
    activity = group_overview(group, viewer_for(members[1], group)).activity
    assert f"Panel drawn in public: {assembly.title}" in [str(a.text) for a in activity]
