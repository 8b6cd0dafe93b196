"""An organisation's look: logo checked by content and resized, accent colour checked
for contrast, changed by its admins only, audit-logged, shown through ``org_brand``."""

from __future__ import annotations

import io

import pytest
from allauth.mfa.models import Authenticator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import resolve
from PIL import Image

from commonground.audit.models import AuditEntry
from commonground.members import branding, selectors
from commonground.members.context_processors import branding as branding_context
from commonground.members.models import DEFAULT_ACCENT, Organisation, Role
from factories import OrganisationFactory, UserFactory, make_group, make_role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def organisation():
    return OrganisationFactory(name="Renters Union", slug="renters")


@pytest.fixture
def national(organisation):
    return make_group(organisation=organisation, name="Renters national")


@pytest.fixture
def admin(national):
    user = make_role(national, Role.ADMIN)
    # Admins must have a second factor before any other page (AdminRequiresMFA).
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    return user


def png_bytes(width: int, height: int, *, mode: str = "RGBA", **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), (200, 30, 60, 255)[: len(mode)]).save(
        buffer, format="PNG", **save
    )
    return buffer.getvalue()


def upload(data: bytes, name: str = "logo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


def settings_url(organisation: Organisation) -> str:
    return f"/organisations/{organisation.slug}/settings/"


def post_settings(client, organisation, *, logo=None, **fields):
    data = {"name": organisation.name, "accent_colour": DEFAULT_ACCENT, **fields}
    if logo is not None:
        data["logo"] = logo
    return client.post(settings_url(organisation), data)


def field_errors(response, field: str) -> list[str]:
    return response.context["form"].errors.get(field, [])


# Logos.


def test_a_text_file_named_logo_png_is_refused(client, organisation, admin):
    client.force_login(admin)
    response = post_settings(
        client, organisation, logo=upload(b"just some text, honestly\n" * 40)
    )
    assert response.status_code == 400
    assert field_errors(response, "logo") == [
        "This file is not an image (PNG, JPEG or WebP)."
    ]
    organisation.refresh_from_db()
    assert not organisation.logo and organisation.logo_renditions == []


def test_an_image_in_another_format_is_refused_by_its_content(
    client, organisation, admin
):
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buffer, format="GIF")
    client.force_login(admin)
    response = post_settings(client, organisation, logo=upload(buffer.getvalue()))
    assert field_errors(response, "logo") == [
        "This file is not an image (PNG, JPEG or WebP)."
    ]


def test_a_file_above_the_size_limit_is_refused_with_its_size(
    client, organisation, admin
):
    client.force_login(admin)
    too_large = png_bytes(8, 8) + b"\0" * int(3.1 * 1024 * 1024)
    response = post_settings(client, organisation, logo=upload(too_large))
    assert response.status_code == 400
    assert field_errors(response, "logo") == ["The logo is 3.1 MB; the limit is 2 MB."]


def test_an_image_with_too_many_pixels_is_refused_before_decoding(
    client, organisation, admin
):
    client.force_login(admin)
    response = post_settings(client, organisation, logo=upload(png_bytes(4001, 10)))
    assert response.status_code == 400
    assert field_errors(response, "logo") == [
        "The logo is 4001 × 10 pixels; the limit is 4000 × 4000."
    ]


def test_a_decompression_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(branding.ValidationError) as refusal:
        branding.logo_prepare(upload(png_bytes(300, 300)))
    assert refusal.value.code == "too_many_pixels"


def test_a_real_png_is_accepted_resized_and_stripped(
    client, organisation, admin, media_root
):
    client.force_login(admin)
    data = png_bytes(600, 300, pnginfo=_pnginfo(Comment="taken at 53.8N 1.5W"))
    response = post_settings(client, organisation, logo=upload(data))
    assert response.status_code == 302
    organisation.refresh_from_db()
    renditions = organisation.logo_renditions
    assert [(r["width"], r["height"]) for r in renditions] == [
        (64, 32),
        (128, 64),
        (256, 128),
    ]
    for rendition in renditions:
        path = media_root / rendition["name"]
        assert rendition["name"].startswith("logos/renters-")
        with Image.open(path) as stored:
            assert stored.format == "PNG"
            assert stored.size == (rendition["width"], rendition["height"])
            assert "Comment" not in stored.info and "exif" not in stored.info
    with Image.open(media_root / organisation.logo.name) as source:
        assert source.size == (600, 300)
        assert "Comment" not in source.info

    brand = branding.brand_of(organisation)
    assert brand.logo_url == f"/media/{renditions[1]['name']}"
    assert (brand.logo_width, brand.logo_height) == (128, 64)
    assert brand.logo_srcset.count("w,") == 2


def test_a_small_logo_is_not_enlarged(organisation, admin):
    from commonground.members import services

    services.organisation_branding_update(
        actor=admin,
        organisation=organisation,
        name=organisation.name,
        accent_colour=DEFAULT_ACCENT,
        logo=upload(png_bytes(100, 50, mode="RGB")),
    )
    organisation.refresh_from_db()
    assert [r["width"] for r in organisation.logo_renditions] == [64, 100]


def test_replacing_the_logo_deletes_the_old_files(
    organisation, admin, media_root, django_capture_on_commit_callbacks
):
    from commonground.members import services

    def change(data: bytes) -> list[str]:
        with django_capture_on_commit_callbacks(execute=True):
            updated = services.organisation_branding_update(
                actor=admin,
                organisation=organisation,
                name=organisation.name,
                accent_colour=DEFAULT_ACCENT,
                logo=upload(data),
            )
        return [updated.logo.name] + [r["name"] for r in updated.logo_renditions]

    first = change(png_bytes(300, 100))
    second = change(png_bytes(200, 100, mode="RGB"))
    assert all(not (media_root / name).exists() for name in first)
    assert all((media_root / name).exists() for name in second)


def _pnginfo(**texts: str):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for key, value in texts.items():
        info.add_text(key, value)
    return info


# Accent colours.


def test_a_colour_below_aa_is_refused_with_its_ratio_and_a_passing_neighbour(
    client, organisation, admin
):
    client.force_login(admin)
    response = post_settings(client, organisation, accent_colour="#3A8F5F")
    assert response.status_code == 400
    (message,) = field_errors(response, "accent_colour")
    assert message == (
        "#3a8f5f gives a contrast of 4.3:1 with the text on it; AA needs 4.5:1. "
        "Try #3d9664."
    )
    suggestion = message.rsplit(" ", 1)[1].rstrip(".")
    assert branding.best_ink(suggestion)[1] >= 4.5
    organisation.refresh_from_db()
    assert organisation.accent_colour == DEFAULT_ACCENT


def test_a_passing_colour_is_saved_with_the_ink_that_reads_best(
    client, organisation, admin
):
    client.force_login(admin)
    response = post_settings(client, organisation, accent_colour="#7fd3a0")
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.accent_colour == "#7fd3a0"
    brand = branding.brand_of(organisation)
    assert brand.accent_ink == branding.DARK_INK  # a light accent takes dark text
    # As text on the white page the light accent is darkened until it reads.
    assert branding.contrast_ratio(brand.accent_text, "#ffffff") >= 4.5


def test_contrast_ratios_match_wcag_reference_values():
    assert branding.contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert branding.contrast_ratio("#777777", "#ffffff") == pytest.approx(
        4.48, abs=0.01
    )
    assert branding.best_ink(DEFAULT_ACCENT)[0] == branding.WHITE
    assert branding.ratio_text(4.4999) == "4.4:1"  # never rounded up to a pass


# Who may change it, and the record.


def test_only_the_organisations_admins_may_change_its_branding(
    client, organisation, national
):
    branch = make_group(parent=national, name="Leeds renters")
    branch_admin = make_role(branch, Role.ADMIN)
    national_organiser = make_role(national, Role.ORGANISER)
    other_org_admin = make_role(make_group(), Role.ADMIN)
    member = UserFactory()
    for user in (branch_admin, national_organiser, other_org_admin, member):
        Authenticator.objects.create(
            user=user, type=Authenticator.Type.TOTP, data={"secret": "x"}
        )
        client.force_login(user)
        assert client.get(settings_url(organisation)).status_code == 404
        response = post_settings(client, organisation, accent_colour="#123456")
        assert response.status_code == 404
    client.logout()
    response = client.get(settings_url(organisation))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    organisation.refresh_from_db()
    assert organisation.accent_colour == DEFAULT_ACCENT
    assert not AuditEntry.objects.filter(action="organisation.branding_changed")


def test_the_service_refuses_a_non_admin(organisation, national):
    from django.core.exceptions import PermissionDenied

    from commonground.members import services

    organiser = make_role(national, Role.ORGANISER)
    with pytest.raises(PermissionDenied):
        services.organisation_branding_update(
            actor=organiser,
            organisation=organisation,
            name="Taken over",
            accent_colour="#123456",
        )


def test_a_change_is_audit_logged_in_the_organisations_top_group(
    client, organisation, national, admin
):
    client.force_login(admin)
    response = post_settings(
        client, organisation, name="Renters Union UK", accent_colour="#123456"
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="organisation.branding_changed")
    assert entry.actor_id == admin.pk
    assert entry.group_id == national.pk
    assert entry.target_type == "members.organisation"
    assert entry.data == {
        "changed": {
            "name": ["Renters Union", "Renters Union UK"],
            "accent_colour": [DEFAULT_ACCENT, "#123456"],
        }
    }
    log = client.get(f"/groups/{national.slug}/log/").content.decode()
    assert "changed the organisation&#x27;s name, logo or colour" in log
    # Saving again without a change records nothing.
    post_settings(
        client, organisation, name="Renters Union UK", accent_colour="#123456"
    )
    assert (
        AuditEntry.objects.filter(action="organisation.branding_changed").count() == 1
    )


def test_the_profile_links_an_admin_to_the_organisation_settings(
    client, organisation, admin
):
    client.force_login(admin)
    page = client.get("/me/").content.decode()
    assert settings_url(organisation) in page


# What pages read.


def _brand_for(path: str, user=None):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get(path)
    request.user = user or AnonymousUser()
    request.resolver_match = resolve(path)
    return branding_context(request)["org_brand"]


def test_group_pages_of_every_app_carry_their_organisation_brand(
    organisation, national
):
    Organisation.objects.filter(pk=organisation.pk).update(accent_colour="#123456")
    for path in (
        f"/groups/{national.slug}/",
        f"/groups/{national.slug}/members/",
        f"/decisions/groups/{national.slug}/",
    ):
        brand = _brand_for(path)
        assert brand and brand.name == "Renters Union"
        assert (brand.accent, brand.accent_ink) == ("#123456", branding.WHITE)
    assert not _brand_for("/groups/")
    assert not _brand_for("/me/")
    assert not _brand_for("/groups/no-such-group/")


def test_a_private_groups_brand_is_shown_only_to_people_in_its_organisation(
    organisation, national
):
    from factories import make_member

    private = make_group(organisation=organisation, is_public=False)
    path = f"/groups/{private.slug}/"
    assert not _brand_for(path)
    assert not _brand_for(path, UserFactory())
    assert _brand_for(path, make_member(national)).name == "Renters Union"


def test_the_brand_costs_one_query_and_only_when_read(
    organisation, national, django_assert_num_queries
):
    with django_assert_num_queries(0):
        brand = _brand_for(f"/groups/{national.slug}/")
    with django_assert_num_queries(1):
        assert brand.name == "Renters Union"
        assert brand.accent == DEFAULT_ACCENT


def test_the_brand_stylesheet_sets_the_accent_properties(client, organisation):
    Organisation.objects.filter(pk=organisation.pk).update(accent_colour="#7fd3a0")
    organisation.refresh_from_db()
    brand = branding.brand_of(organisation)
    response = client.get(brand.stylesheet_url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    css = response.content.decode()
    assert "--accent: #7fd3a0;" in css and "--accent-ink: #1b1b1b;" in css
    assert client.get("/organisations/nobody/brand.css").status_code == 404


def test_affiliate_brands_lists_a_coalitions_affiliates_with_logos(
    organisation, django_assert_num_queries
):
    coalition = OrganisationFactory(name="Housing coalition", kind="coalition")
    other = OrganisationFactory(name="Green tenants")
    Organisation.objects.filter(pk=other.pk).update(
        logo_renditions=[{"width": 64, "height": 20, "name": "logos/green-64.png"}]
    )
    coalition.affiliates.add(organisation, other)
    with django_assert_num_queries(1):
        brands = selectors.affiliate_brands(coalition)
    assert [(b.name, b.logo_url) for b in brands] == [
        ("Green tenants", "/media/logos/green-64.png"),
        ("Renters Union", ""),
    ]
