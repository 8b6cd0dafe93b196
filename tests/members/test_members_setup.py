"""Setting a movement up: the first run, createadmin, and organisers shaping the
group tree (add, rename, move, archive, a tree from CSV) with every refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from commonground.audit.models import AuditEntry
from commonground.members import selectors, services
from commonground.members.models import Group, Membership, Organisation, Role, User
from factories import UserFactory, make_group, make_member, make_role

pytestmark = pytest.mark.django_db


def with_second_factor(user):
    """Admins must have a second factor before they use organiser pages."""
    from allauth.mfa.models import Authenticator

    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    return user


STRONG = "a long enough passphrase 2026"  # noqa: S105


# First run -------------------------------------------------------------------------


def test_an_empty_site_sends_its_first_visitor_to_the_set_up_page(client):
    assert client.get("/").url == reverse("members:setup")


def test_the_first_run_creates_the_admin_the_organisation_and_its_top_group(
    client, settings
):
    settings.DEBUG = True
    response = client.post(
        reverse("members:setup"),
        {
            "name": "Rosa",
            "email": "rosa@example.org",
            "password": STRONG,
            "organisation": "Northern People",
            "slug": "northern-people",
        },
    )
    top = Group.objects.get(slug="northern-people")
    assert response.url == reverse("members:group_structure", args=[top.slug])
    admin = User.objects.get(email="rosa@example.org")
    assert admin.is_superuser and admin.is_staff and admin.check_password(STRONG)
    assert selectors.is_organisation_admin(admin, top.organisation)
    assert Membership.objects.get(user=admin, group=top).status == "active"
    assert admin.emailaddress_set.get().verified
    # Once anyone exists the page is gone, and so is a second set-up.
    client.logout()
    assert client.get(reverse("members:setup")).url == reverse("home")
    with pytest.raises(ValidationError, match="already set up"):
        services.site_setup(
            name="X",
            email="x@example.org",
            password=STRONG,
            organisation_name="Other",
            slug="other",
        )


def test_on_a_server_the_first_run_needs_the_set_up_token(client, settings):
    settings.DEBUG = False
    settings.SETUP_TOKEN = "s3cret-token"  # noqa: S105
    data = {
        "name": "Rosa",
        "email": "rosa@example.org",
        "password": STRONG,
        "organisation": "Northern People",
        "slug": "northern-people",
        "setup_token": "guess",
    }
    response = client.post(reverse("members:setup"), data)
    assert response.status_code == 400
    assert "not the one on the server" in response.content.decode()
    assert not User.objects.exists()
    data["setup_token"] = "s3cret-token"  # noqa: S105
    assert client.post(reverse("members:setup"), data).status_code == 302
    assert User.objects.filter(email="rosa@example.org").exists()


def test_without_a_token_set_a_server_refuses_the_web_first_run(client, settings):
    settings.DEBUG = False
    settings.SETUP_TOKEN = ""
    response = client.post(
        reverse("members:setup"),
        {
            "name": "R",
            "email": "r@example.org",
            "password": STRONG,
            "organisation": "N",
            "slug": "n",
        },
    )
    assert response.status_code == 400
    assert "createadmin" in response.content.decode()
    assert not User.objects.exists()


def test_a_weak_password_is_refused_and_nothing_is_created(client, settings):
    settings.DEBUG = True
    response = client.post(
        reverse("members:setup"),
        {
            "name": "R",
            "email": "r@example.org",
            "password": "short",
            "organisation": "N",
            "slug": "n",
        },
    )
    assert response.status_code == 400
    assert not User.objects.exists() and not Organisation.objects.exists()


def test_createadmin_sets_up_an_empty_site_from_the_command_line(monkeypatch):
    monkeypatch.setenv("COMMONGROUND_ADMIN_PASSWORD", STRONG)
    args = [
        "--email",
        "ops@example.org",
        "--name",
        "Ops",
        "--organisation",
        "Northern People",
        "--slug",
        "northern-people",
    ]
    call_command("createadmin", *args)
    assert User.objects.get(email="ops@example.org").is_superuser
    with pytest.raises(CommandError, match="already has accounts"):
        call_command("createadmin", *args)


# The group tree ------------------------------------------------------------------


@pytest.fixture
def tree(db):
    national = make_group(name="Northern People", kind=Group.Kind.NATIONAL)
    yorkshire = make_group(parent=national, name="Yorkshire", kind=Group.Kind.REGION)
    leeds = make_group(parent=yorkshire, name="Leeds")
    lancashire = make_group(parent=national, name="Lancashire", kind=Group.Kind.REGION)
    return national, yorkshire, leeds, lancashire


def test_an_organiser_adds_a_sub_group_in_the_page_and_it_is_logged(client, tree):
    national, yorkshire, leeds, lancashire = tree
    organiser = make_role(yorkshire, Role.ORGANISER)
    client.force_login(organiser)
    response = client.post(
        reverse("members:group_add", args=[yorkshire.slug]),
        {
            "name": "Sheffield",
            "slug": "sheffield",
            "kind": "branch",
            "join_policy": "open",
            "is_public": "on",
        },
    )
    sheffield = Group.objects.get(slug="sheffield")
    assert response.url == reverse("members:group_structure", args=["sheffield"])
    assert sheffield.parent == yorkshire and sheffield.path.startswith(yorkshire.path)
    assert AuditEntry.objects.filter(
        action="group.created", target_id=str(sheffield.pk)
    ).exists()


def test_an_organiser_cannot_add_a_group_outside_their_subtree(client, tree):
    national, yorkshire, leeds, lancashire = tree
    organiser = make_role(yorkshire, Role.ORGANISER)
    with pytest.raises(PermissionDenied):
        services.group_create(
            actor=organiser,
            organisation=national.organisation,
            name="Preston",
            slug="preston",
            kind="branch",
            parent=lancashire,
        )
    client.force_login(organiser)
    response = client.post(
        reverse("members:group_add", args=[lancashire.slug]),
        {"name": "Preston", "slug": "preston", "kind": "branch", "join_policy": "open"},
    )
    assert response.status_code == 404
    assert not Group.objects.filter(slug="preston").exists()


def test_a_taken_or_malformed_web_address_is_refused_with_the_field(client, tree):
    national, yorkshire, leeds, lancashire = tree
    client.force_login(with_second_factor(make_role(national, Role.ADMIN)))
    response = client.post(
        reverse("members:group_add", args=[yorkshire.slug]),
        {
            "name": "Leeds again",
            "slug": leeds.slug,
            "kind": "branch",
            "join_policy": "open",
        },
    )
    assert response.status_code == 400
    assert "is taken" in response.content.decode()
    with pytest.raises(ValidationError) as error:
        services.group_create(
            actor=None,
            organisation=national.organisation,
            name="X",
            slug="Bad Slug!",
            kind="branch",
            parent=yorkshire,
        )
    assert "slug" in error.value.message_dict


def test_renaming_is_logged_with_the_old_and_new_name(tree):
    national, yorkshire, leeds, lancashire = tree
    organiser = make_role(leeds, Role.ORGANISER)
    services.group_rename(actor=organiser, group=leeds, name="Leeds & Bradford")
    entry = AuditEntry.objects.filter(action="group.renamed").get()
    assert entry.data["changed"]["name"] == ["Leeds", "Leeds & Bradford"]


def test_moving_a_branch_keeps_its_members_and_roles_and_rolls_above_follow(tree):
    national, yorkshire, leeds, lancashire = tree
    admin = make_role(national, Role.ADMIN)
    member = make_member(leeds)
    branch_organiser = make_role(leeds, Role.ORGANISER)
    child = make_group(
        parent=leeds, name="Leeds students", kind=Group.Kind.WORKING_GROUP
    )
    assert member in selectors.subtree_active_members(yorkshire)
    services.group_move(actor=admin, group=leeds, new_parent=lancashire)
    leeds.refresh_from_db()
    child.refresh_from_db()
    assert leeds.parent == lancashire
    assert leeds.path == f"{lancashire.path}{leeds.pk}/"
    assert child.path == f"{leeds.path}{child.pk}/"
    assert member in selectors.subtree_active_members(lancashire)
    assert member not in selectors.subtree_active_members(yorkshire)
    assert member in selectors.subtree_active_members(national)
    assert selectors.viewer_for(branch_organiser, child).can_manage
    assert AuditEntry.objects.filter(action="group.moved").get().data == {
        "from": yorkshire.pk,
        "to": lancashire.pk,
    }


def test_a_move_under_itself_or_outside_the_movers_subtree_is_refused(tree):
    national, yorkshire, leeds, lancashire = tree
    admin = make_role(national, Role.ADMIN)
    with pytest.raises(ValidationError, match="under itself"):
        services.group_move(actor=admin, group=yorkshire, new_parent=leeds)
    with pytest.raises(ValidationError, match="under itself"):
        services.group_move(actor=admin, group=yorkshire, new_parent=yorkshire)
    yorkshire_organiser = make_role(yorkshire, Role.ORGANISER)
    with pytest.raises(PermissionDenied):
        services.group_move(
            actor=yorkshire_organiser, group=leeds, new_parent=lancashire
        )
    other_org = make_group(name="Elsewhere")
    with pytest.raises(PermissionDenied):
        services.group_move(actor=admin, group=leeds, new_parent=other_org)
    leeds.refresh_from_db()
    assert leeds.parent == yorkshire


def test_the_move_form_offers_only_groups_the_organiser_manages_outside_the_branch(
    client, tree
):
    national, yorkshire, leeds, lancashire = tree
    organiser = make_role(yorkshire, Role.ORGANISER)
    targets = set(selectors.move_targets(organiser, leeds))
    assert targets == {yorkshire}
    assert leeds not in set(
        selectors.move_targets(make_role(national, Role.ADMIN), leeds)
    )


def test_archiving_refuses_a_group_with_an_open_ballot_or_live_sub_groups(tree):
    from commonground.decisions import services as decisions

    national, yorkshire, leeds, lancashire = tree
    admin = make_role(national, Role.ADMIN)
    make_member(leeds)
    now = timezone.now()
    decisions.election_create(
        actor=admin,
        group=leeds,
        kind="question",
        spec=decisions.ElectionSpec(
            title="Which day?",
            method="approval",
            options=["Mon", "Tue"],
            opens_at=now,
            closes_at=now + timedelta(days=1),
        ),
    )
    with pytest.raises(ValidationError, match="ballot open"):
        services.group_archive(actor=admin, group=leeds, reason="merged")
    with pytest.raises(ValidationError, match="sub-groups first"):
        services.group_archive(actor=admin, group=yorkshire, reason="merged")
    leeds.refresh_from_db()
    assert leeds.archived_at is None


def test_an_archived_group_takes_no_members_and_leaves_the_directory(client, tree):
    national, yorkshire, leeds, lancashire = tree
    admin = make_role(national, Role.ADMIN)
    services.group_archive(actor=admin, group=lancashire, reason="no members left")
    lancashire.refresh_from_db()
    with pytest.raises(ValidationError, match="archived"):
        services.membership_join(user=UserFactory(), group=lancashire)
    assert "Lancashire" not in client.get(reverse("members:directory")).content.decode()
    assert AuditEntry.objects.filter(
        action="group.archived", reason="no members left"
    ).exists()
    services.group_unarchive(actor=admin, group=lancashire)
    lancashire.refresh_from_db()
    assert lancashire.archived_at is None


# A tree from CSV --------------------------------------------------------------


TREE_CSV = (
    "Path,Kind,Name,join_policy\n"
    "northern-people/yorkshire/sheffield,branch,Sheffield,open\n"
    "northern-people/cumbria,region,Cumbria,\n"
    "northern-people/cumbria/carlisle,branch,Carlisle,approval\n"
    "northern-people/yorkshire,region,Yorkshire,\n"
)


@pytest.fixture
def named_tree(db):
    organisation = Organisation.objects.create(name="Northern People", slug="np")
    national = services.group_create(
        actor=None,
        organisation=organisation,
        name="Northern People",
        slug="northern-people",
        kind="national",
    )
    yorkshire = services.group_create(
        actor=None,
        organisation=organisation,
        name="Yorkshire",
        slug="yorkshire",
        kind="region",
        parent=national,
    )
    return national, yorkshire


def test_a_tree_csv_dry_run_says_what_would_happen_and_applying_twice_changes_nothing(
    named_tree,
):
    national, yorkshire = named_tree
    admin = make_role(national, Role.ADMIN)
    data = TREE_CSV.encode()
    plan = services.group_tree_plan(
        actor=admin, organisation=national.organisation, data=data
    )
    assert plan.problems == 0 and plan.to_create == 3 and plan.existing == 1
    assert not Group.objects.filter(
        slug="carlisle"
    ).exists()  # a dry run writes nothing
    created = services.group_tree_apply(
        actor=admin, organisation=national.organisation, data=data
    )
    assert {g.slug for g in created} == {"sheffield", "cumbria", "carlisle"}
    carlisle = Group.objects.get(slug="carlisle")
    assert carlisle.parent.slug == "cumbria" and carlisle.join_policy == "approval"
    again = services.group_tree_plan(
        actor=admin, organisation=national.organisation, data=data
    )
    assert again.to_create == 0 and again.existing == 4
    assert (
        services.group_tree_apply(
            actor=admin, organisation=national.organisation, data=data
        )
        == []
    )


def test_a_tree_csv_with_problems_names_line_and_column_and_creates_nothing(named_tree):
    national, yorkshire = named_tree
    organiser = make_role(yorkshire, Role.ORGANISER)
    data = (
        b"path,kind,name\n"
        b"northern-people/yorkshire/hull,branch,Hull\n"
        b"northern-people/yorkshire/york,village,York\n"
        b"northern-people/wales/cardiff,branch,Cardiff\n"
        b"northern-people/lakes,region,Lakes\n"
        b"northern-people/yorkshire/hull,branch,Hull again\n"
    )
    plan = services.group_tree_plan(
        actor=organiser, organisation=national.organisation, data=data
    )
    problems = {
        (row.line, column) for row in plan.rows for column, _reason in row.errors
    }
    assert problems == {(3, "kind"), (4, "path"), (5, "path"), (6, "path")}
    with pytest.raises(ValidationError, match="nothing was created"):
        services.group_tree_apply(
            actor=organiser, organisation=national.organisation, data=data
        )
    assert not Group.objects.filter(slug="hull").exists()


def test_a_tree_csv_in_the_wrong_encoding_or_without_a_column_is_refused(named_tree):
    national, yorkshire = named_tree
    admin = make_role(national, Role.ADMIN)
    latin = "path,kind,name\nnorthern-people/yorkshire/selby,branch,Selby Abbé\n"
    plan = services.group_tree_plan(
        actor=admin, organisation=national.organisation, data=latin.encode("latin-1")
    )
    assert plan.file_errors and "line 2" in plan.file_errors[0]
    plan = services.group_tree_plan(
        actor=admin, organisation=national.organisation, data=b"path,name\na,b\n"
    )
    assert "kind" in plan.file_errors[0] and "Line 1" in plan.file_errors[0]


def test_the_tree_page_shows_the_dry_run_then_creates(client, named_tree):
    from django.core.files.uploadedfile import SimpleUploadedFile

    national, yorkshire = named_tree
    client.force_login(with_second_factor(make_role(national, Role.ADMIN)))
    url = reverse("members:group_tree", args=[national.slug])
    upload = SimpleUploadedFile("tree.csv", TREE_CSV.encode(), content_type="text/csv")
    page = client.post(url, {"file": upload})
    assert page.status_code == 200
    assert "3 to create, 1 already there" in page.content.decode()
    assert not Group.objects.filter(slug="cumbria").exists()
    upload = SimpleUploadedFile("tree.csv", TREE_CSV.encode(), content_type="text/csv")
    done = client.post(url, {"file": upload, "apply": "on"})
    assert done.status_code == 302 and Group.objects.filter(slug="cumbria").exists()


def test_the_structure_page_is_for_the_groups_managers_only(client, tree):
    national, yorkshire, leeds, lancashire = tree
    url = reverse("members:group_structure", args=[leeds.slug])
    client.force_login(make_member(leeds))
    assert client.get(url).status_code == 404
    client.force_login(make_role(yorkshire, Role.ORGANISER))
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    # Breadcrumbs through the whole tree above the group.
    for name in ("Northern People", "Yorkshire"):
        assert f">{name}</a></li>" in html


def test_an_archived_group_opens_no_new_ballot_or_proposal(tree):
    from commonground.decisions import services as decisions
    from commonground.decisions.services.errors import DecisionRefused

    national, yorkshire, leeds, lancashire = tree
    admin = make_role(national, Role.ADMIN)
    member = make_member(lancashire)
    services.group_archive(actor=admin, group=lancashire, reason="merged")
    lancashire.refresh_from_db()
    with pytest.raises(DecisionRefused, match="archived"):
        decisions.proposal_create(author=member, group=lancashire, title="T", text="x")
    now = timezone.now()
    with pytest.raises(DecisionRefused, match="archived"):
        decisions.election_create(
            actor=admin,
            group=lancashire,
            kind="question",
            spec=decisions.ElectionSpec(
                title="Q",
                method="approval",
                options=["A", "B"],
                opens_at=now,
                closes_at=now + timedelta(days=1),
            ),
        )
