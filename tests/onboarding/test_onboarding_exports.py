"""The register going out: CSV in the import's own layout (a round trip changes
nothing) and OSDI people; admin-only and audit-logged."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.utils import timezone

from commonground.audit.models import AuditEntry
from commonground.members.models import Membership, User
from commonground.members.services import account_delete, account_export
from commonground.onboarding import services
from commonground.onboarding.models import ImportJob, RegisterEntry

pytestmark = pytest.mark.django_db

REGISTER = [
    [
        "Contact ID",
        "First Name",
        "Last Name",
        "Email",
        "Postal Code",
        "Branch",
        "Member Since",
        "Membership Status",
        "Membership Type",
        "Phone",
        "Ward",
    ],
    [
        "101",
        "Dee",
        "Park",
        "dee@example.net",
        "yo17hh",
        "york",
        "2019-04-01",
        "Current",
        "Low income",
        "07700 900001",
        "Micklegate",
    ],
    [
        "102",
        "Eli",
        "Shaw",
        "eli@example.net",
        "LS1 4AB",
        "leeds",
        "15/06/2021",
        "Expired",
        "Standard",
        "",
        "City",
    ],
    ["103", "Flo", "de la Tan", "flo@example.net", "", "", "", "Suspended", "", "", ""],
]


def export(register, file_format):
    chunks = services.register_export(
        actor=register.admin,
        organisation=register.group.organisation,
        group=register.group,
        file_format=file_format,
    )
    return "".join(chunks)


@pytest.fixture
def imported(register, leeds, york):
    job = register.run(register.csv(REGISTER))
    assert job.status == ImportJob.Status.APPLIED, job.report
    return job


def test_the_csv_export_has_the_import_s_columns(register, imported):
    text = export(register, "csv")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == [
        "Email",
        "Name",
        "Postcode",
        "Branch",
        "Join date",
        "Status",
        "Dues tier",
        "External ID",
        "Phone",
        "Ward",
    ]
    assert rows[1] == [
        "dee@example.net",
        "Dee Park",
        "YO1 7HH",
        "york",
        "2019-04-01",
        "active",
        "Low income",
        "101",
        "07700 900001",
        "Micklegate",
    ]
    assert rows[2][5] == "lapsed" and rows[3][5] == "suspended"
    assert len(rows) == 4


def test_re_importing_an_export_changes_nothing(register, imported):
    before = (
        list(
            Membership.objects.order_by("pk").values_list(
                "pk", "group", "status", "since"
            )
        ),
        list(RegisterEntry.objects.order_by("pk").values()),
        list(User.objects.order_by("pk").values_list("pk", "email", "display_name")),
    )
    exported = export(register, "csv").encode()
    job = register.run(exported, name="export.csv")
    assert job.status == ImportJob.Status.APPLIED
    assert job.counts() == {"created": 0, "updated": 0, "unchanged": 3, "skipped": 0}
    after = (
        list(
            Membership.objects.order_by("pk").values_list(
                "pk", "group", "status", "since"
            )
        ),
        list(RegisterEntry.objects.order_by("pk").values()),
        list(User.objects.order_by("pk").values_list("pk", "email", "display_name")),
    )
    assert before == after
    # And the export of the re-imported register is the same file.
    assert export(register, "csv").encode() == exported


def test_the_osdi_export_is_a_collection_of_osdi_people(register, imported):
    data = json.loads(export(register, "osdi"))
    assert data["total_records"] == 3
    people = data["_embedded"]["osdi:people"]
    dee = people[0]
    user = User.objects.get(email="dee@example.net")
    assert dee == {
        "identifiers": [f"commonground:{user.pk}", "register:101"],
        "given_name": "Dee",
        "family_name": "Park",
        "email_addresses": [
            {"address": "dee@example.net", "primary": True, "status": "subscribed"}
        ],
        "postal_addresses": [{"postal_code": "YO1 7HH", "primary": True}],
        "custom_fields": {
            "Phone": "07700 900001",
            "Ward": "Micklegate",
            "branch": "york",
            "membership_status": "active",
            "dues_tier": "Low income",
            "join_date": "2019-04-01",
        },
        "created_date": user.date_joined.isoformat(),
        "modified_date": RegisterEntry.objects.get(user=user).updated_at.isoformat(),
    }
    flo = people[2]
    assert (flo["given_name"], flo["family_name"]) == ("Flo", "de la Tan")
    assert flo["postal_addresses"] == []


def test_osdi_email_status_follows_bounces_and_leaving(register, imported):
    User.objects.filter(email="eli@example.net").update(email_bounced_at=timezone.now())
    Membership.objects.filter(user__email="dee@example.net").update(status="left")
    people = json.loads(export(register, "osdi"))["_embedded"]["osdi:people"]
    statuses = {
        p["email_addresses"][0]["address"]: p["email_addresses"][0]["status"]
        for p in people
    }
    assert statuses == {
        "dee@example.net": "unsubscribed",
        "eli@example.net": "bouncing",
        "flo@example.net": "subscribed",
    }


def test_a_renamed_member_is_split_before_the_last_word_in_osdi(register, imported):
    User.objects.filter(email="dee@example.net").update(display_name="Dee Ann Park-Lee")
    person = json.loads(export(register, "osdi"))["_embedded"]["osdi:people"][0]
    assert (person["given_name"], person["family_name"]) == ("Dee Ann", "Park-Lee")


def test_each_export_is_audit_logged_with_its_format_and_size(register, imported):
    export(register, "csv")
    export(register, "osdi")
    entries = AuditEntry.objects.filter(action="register.exported").order_by("pk")
    assert [e.data for e in entries] == [
        {"format": "csv", "rows": 3},
        {"format": "osdi", "rows": 3},
    ]
    assert all(
        e.actor_id == register.admin.pk and e.group_id == register.group.pk
        for e in entries
    )


def test_a_deleted_account_leaves_the_register_and_its_export(register, imported):
    user = User.objects.get(email="eli@example.net")
    assert account_export(user=user)["register"][0]["postcode"] == "LS1 4AB"
    account_delete(user=user)
    assert not RegisterEntry.objects.filter(user=user).exists()
    assert "eli" not in export(register, "csv")
