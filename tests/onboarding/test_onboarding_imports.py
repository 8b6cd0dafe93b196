"""Importing a register: the dry run's counts and refusals (line and column, nothing
applied), the apply in batches (one transaction each, resumable, idempotent), and the
postcode table."""

from __future__ import annotations

import datetime as dt
import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook

from commonground.audit.models import AuditEntry
from commonground.members.models import Group, Invitation, Membership, User
from commonground.onboarding import services
from commonground.onboarding.models import ImportJob, RegisterEntry
from commonground.onboarding.services import running
from factories import make_member

pytestmark = pytest.mark.django_db
Status = ImportJob.Status

ACTION_NETWORK = [
    ["first_name", "last_name", "email", "zip_code", "can2_phone", "uuid"],
    ["Ann", "Lee", "ann@example.net", "LS6 1AB", "0113 496 0000", "an-1"],
    ["Bo", "Ng", "BO@example.net", "ls10 1aa", "", "an-2"],
    ["Cy", "Roe", "cy@example.net", "", "", "an-3"],
]
CIVICRM = [
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
    ],
    [
        "101",
        "Dee",
        "Park",
        "dee@example.net",
        "YO1 7HH",
        "york",
        "2019-04-01 00:00:00",
        "Current",
        "Low income",
    ],
    [
        "102",
        "Eli",
        "Shaw",
        "eli@example.net",
        "LS1 4AB",
        "Leeds branch",
        "15/06/2021",
        "Grace",
        "Standard",
    ],
    [
        "103",
        "Flo",
        "Tan",
        "flo@example.net",
        "",
        "leeds",
        "2020-01-01",
        "Expired",
        "Standard",
    ],
    ["104", "Gus", "Vale", "gus@example.net", "", "", "", "Cancelled", ""],
]


def audit_entries(action="register.imported"):
    return list(AuditEntry.objects.filter(action=action))


def test_an_action_network_export_is_imported_into_the_top_group_with_invitations(
    register, national
):
    job = register.run(register.csv(ACTION_NETWORK))
    assert job.status == Status.APPLIED
    assert job.counts() == {"created": 3, "updated": 0, "unchanged": 0, "skipped": 0}
    bo = User.objects.get(email="bo@example.net")
    assert bo.display_name == "Bo Ng"
    assert Membership.objects.get(user=bo).group == national
    entry = RegisterEntry.objects.get(user=bo)
    assert (entry.postcode, entry.external_id) == ("LS10 1AA", "an-2")
    assert (entry.given_name, entry.family_name) == ("Bo", "Ng")
    assert RegisterEntry.objects.get(user__email="ann@example.net").custom_fields == {
        "can2_phone": "0113 496 0000"
    }
    assert Invitation.objects.filter(organisation=national.organisation).count() == 3
    [entry] = audit_entries()
    assert entry.group_id == national.pk
    assert entry.actor_id == register.admin.pk
    assert entry.data == {
        "rows": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
    }
    job.refresh_from_db()
    assert (
        bytes(ImportJob.objects.filter(pk=job.pk).values_list("content", flat=True)[0])
        == b""
    )


def test_a_civicrm_export_with_branches_statuses_and_join_dates(register, leeds, york):
    job = register.run(register.csv(CIVICRM, bom=True))
    assert job.status == Status.APPLIED
    # Gus is cancelled and has no account: skipped, nobody to invite.
    assert job.counts() == {"created": 3, "updated": 0, "unchanged": 0, "skipped": 1}
    dee = Membership.objects.get(user__email="dee@example.net")
    assert (dee.group, dee.status) == (york, "active")
    assert dee.since == dt.datetime(2019, 4, 1, tzinfo=dt.UTC)
    eli = Membership.objects.get(user__email="eli@example.net")
    assert (eli.group, eli.status) == (leeds, "active")  # Grace is still current
    assert Membership.objects.get(user__email="flo@example.net").status == "lapsed"
    assert not User.objects.filter(email="gus@example.net").exists()
    entry = RegisterEntry.objects.get(user__email="eli@example.net")
    assert (entry.external_id, entry.dues_tier, entry.joined_on) == (
        "102",
        "Standard",
        dt.date(2021, 6, 15),
    )


def test_the_dry_run_counts_created_updated_unchanged_and_skipped_and_writes_nothing(
    register, national, leeds
):
    register.run(register.csv(ACTION_NETWORK))
    users = User.objects.count()
    rows = [
        ["email", "first_name", "last_name", "branch", "status"],
        ["ann@example.net", "Ann", "Lee", "", ""],  # unchanged
        ["bo@example.net", "Bo", "Ng", "leeds", ""],  # moves branch: updated
        ["new@example.net", "New", "Person", "", ""],  # created
        ["", "", "", "", ""],  # blank: skipped
        ["gone@example.net", "", "", "", "left"],  # left, no account: skipped
    ]
    job = register.check(register.upload(register.csv(rows)))
    assert job.status == Status.CHECKED
    assert job.report["rows"] == 5
    assert {
        k: job.report[k]
        for k in ("created", "updated", "unchanged", "skipped", "failed")
    } == {
        "created": 1,
        "updated": 1,
        "unchanged": 1,
        "skipped": 2,
        "failed": 0,
    }
    assert User.objects.count() == users
    assert Membership.objects.get(user__email="bo@example.net").group == national


def _refused(register, rows, **rules):
    """Check a file that must fail: it is reported and nothing is applied."""
    users = User.objects.count()
    job = register.check(register.upload(register.csv(rows)), **rules)
    assert job.status == Status.CHECKED
    assert job.error_count and not job.can_apply
    with pytest.raises(ValidationError, match="without errors"):
        services.import_apply_start(actor=register.admin, job=job)
    assert User.objects.count() == users
    assert not audit_entries()
    return [(e["line"], e["column"], e["message"]) for e in job.report["errors"]]


def test_duplicate_emails_in_the_file_name_both_lines_and_nothing_is_applied(register):
    errors = _refused(
        register,
        [
            ["Email", "Name"],
            ["a@example.net", "A"],
            ["b@example.net", "B"],
            ["A@EXAMPLE.NET", "A2"],
        ],
    )
    assert errors == [(4, "A", "a@example.net is also on line 2: each person once.")]


def test_an_invalid_date_is_reported_with_line_column_and_the_accepted_formats(
    register,
):
    errors = _refused(
        register,
        [
            ["Email", "Join date"],
            ["a@example.net", "2020-01-01"],
            ["b@example.net", "02/30/2020"],
        ],
        day_first=False,
    )
    assert errors == [
        (
            3,
            "B",
            "“02/30/2020” is not a date we can read: use YYYY-MM-DD, MM/DD/YYYY, DD.MM.YYYY.",
        )
    ]


def test_an_invalid_postcode_is_reported_under_the_chosen_rule(register):
    rows = [
        ["Email", "Postcode"],
        ["a@example.net", "10115"],
        ["b@example.net", "LS1 4AB"],
    ]
    assert _refused(register, rows, postcode_rule="uk") == [
        (2, "B", "“10115” is not a postcode under this import's rule.")
    ]


def test_an_unknown_branch_and_an_unknown_status_are_reported(register, leeds):
    rows = [["Email", "Branch", "Status"], ["a@example.net", "Narnia", "Pending"]]
    errors = _refused(register, rows)
    assert [(line, column) for line, column, _ in errors] == [(2, "B"), (2, "C")]


def test_a_missing_email_and_an_invalid_one_are_reported(register):
    rows = [
        ["Email", "Name"],
        ["", "No address"],
        ["bob@", "Bob"],
        ["ok@example.net", "Ok"],
    ]
    assert _refused(register, rows) == [
        (2, "A", "The email is missing."),
        (3, "A", "“bob@” is not a valid email address."),
    ]


def test_a_mapping_without_an_email_column_is_refused(register):
    job = register.upload(register.csv([["Name", "Postcode"], ["Ann", "LS1 4AB"]]))
    with pytest.raises(ValidationError, match="email address"):
        register.check(job, mapping=["name", "postcode"])
    job.refresh_from_db()
    assert job.status == Status.UPLOADED


def test_a_file_in_windows_1252_is_refused_at_upload_naming_the_line(register):
    content = "Email,Name\na@example.net,Zoë\n".encode("cp1252")
    with pytest.raises(ValidationError) as refused:
        register.upload(content)
    assert "line 2" in refused.value.messages[0]
    assert not ImportJob.objects.exists()


def test_re_importing_the_same_file_changes_nothing_and_logs_one_entry(
    register, leeds, york
):
    content = register.csv(CIVICRM)
    assert register.run(content).status == Status.APPLIED
    snapshot = (
        list(Membership.objects.values_list("pk", "status", "since")),
        list(RegisterEntry.objects.values_list("pk", "updated_at")),
        User.objects.count(),
    )
    job = register.run(content)
    assert job.status == Status.APPLIED
    assert job.counts() == {"created": 0, "updated": 0, "unchanged": 3, "skipped": 1}
    assert snapshot == (
        list(Membership.objects.values_list("pk", "status", "since")),
        list(RegisterEntry.objects.values_list("pk", "updated_at")),
        User.objects.count(),
    )
    assert len(audit_entries()) == 2  # one per import, nothing else


def test_columns_the_file_does_not_have_leave_the_register_as_it_is(
    register, leeds, york
):
    assert register.run(register.csv(CIVICRM)).status == Status.APPLIED
    register.run(
        register.csv([["Email", "Phone"], ["dee@example.net", "07700 900000"]])
    )
    entry = RegisterEntry.objects.get(user__email="dee@example.net")
    assert (entry.postcode, entry.dues_tier, entry.external_id) == (
        "YO1 7HH",
        "Low income",
        "101",
    )
    assert entry.custom_fields == {"Phone": "07700 900000"}
    assert Membership.objects.get(user=entry.user).status == "active"


def test_without_a_status_column_a_suspended_member_stays_suspended(register, leeds):
    register.run(
        register.csv(
            [["Email", "Branch", "Status"], ["s@example.net", "leeds", "suspended"]]
        )
    )
    job = register.run(register.csv([["Email", "Branch"], ["s@example.net", "leeds"]]))
    assert job.counts()["unchanged"] == 1
    assert Membership.objects.get(user__email="s@example.net").status == "suspended"


def test_an_existing_platform_member_is_brought_into_the_register(register, leeds):
    member = make_member(leeds)
    job = register.run(
        register.csv([["Email", "Branch"], [member.email.upper(), "leeds"]])
    )
    assert job.counts()["updated"] == 1  # the register entry is new
    assert RegisterEntry.objects.get(user=member).membership.group == leeds
    assert not Invitation.objects.filter(user=member).exists()


def _rows(count, start=0):
    return [["Email", "Name"]] + [
        [f"m{i}@example.net", f"Member {i}"] for i in range(start, start + count)
    ]


def test_the_apply_goes_batch_by_batch_recording_its_cursor(register, settings):
    settings.COMMONGROUND_IMPORT_BATCH_SIZE = 4
    job = register.run(register.csv(_rows(10)))
    assert (job.status, job.next_row, job.rows_done, job.total_rows) == (
        Status.APPLIED,
        10,
        10,
        10,
    )
    assert job.counts()["created"] == 10


def test_after_a_crash_mid_import_a_resume_applies_each_member_exactly_once(
    register, settings, monkeypatch
):
    settings.COMMONGROUND_IMPORT_BATCH_SIZE = 4
    real = running.members_enrol
    calls = {"n": 0}

    def crash_on_second_batch(**kwargs):
        calls["n"] += 1
        result = real(**kwargs)
        if calls["n"] == 2:
            raise ConnectionError("worker lost")  # after writing: must roll back
        return result

    monkeypatch.setattr(running, "members_enrol", crash_on_second_batch)
    job = register.check(register.upload(register.csv(_rows(10))))
    services.import_apply_start(actor=register.admin, job=job)
    running.apply_import_task(job.pk)  # the task records the failure
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.next_row == 4
    assert "worker lost" in job.error_message
    assert (
        User.objects.filter(email__startswith="m").count() == 4
    )  # batch 2 rolled back

    monkeypatch.setattr(running, "members_enrol", real)
    assert services.can_resume(job)
    services.import_resume(actor=register.admin, job=job)
    services.import_apply(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.APPLIED
    assert job.counts() == {"created": 10, "updated": 0, "unchanged": 0, "skipped": 0}
    for i in range(10):
        assert User.objects.filter(email=f"m{i}@example.net").count() == 1
        assert Membership.objects.filter(user__email=f"m{i}@example.net").count() == 1
        assert Invitation.objects.filter(user__email=f"m{i}@example.net").count() == 1
    assert len(audit_entries()) == 1


def test_a_task_run_again_after_the_import_finished_does_nothing(register):
    job = register.run(register.csv(_rows(3)))
    services.import_apply(job_id=job.pk)
    running.apply_import_task(job.pk)
    assert User.objects.filter(email__startswith="m").count() == 3
    assert len(audit_entries()) == 1


def test_a_second_worker_skips_the_batches_the_first_committed(register, settings):
    settings.COMMONGROUND_IMPORT_BATCH_SIZE = 2
    job = register.check(register.upload(register.csv(_rows(6))))
    services.import_apply_start(actor=register.admin, job=job)
    # Another worker committed the first two batches meanwhile (the cursor moved).
    run = running._Run.of(
        ImportJob.objects.select_related("organisation", "applied_by").get(pk=job.pk)
    )
    batches = list(running._batches(run.job, running._content(run.job)))
    assert running._apply_batch(run, *batches[0])
    assert running._apply_batch(run, *batches[1])
    services.import_apply(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.APPLIED
    assert job.counts()["created"] == 6
    assert User.objects.filter(email__startswith="m").count() == 6


def test_a_batch_that_fails_at_apply_is_not_applied_and_the_earlier_ones_stay(
    register, settings, leeds, york
):
    settings.COMMONGROUND_IMPORT_BATCH_SIZE = 2
    rows = [
        ["Email", "Branch"],
        ["a@example.net", "leeds"],
        ["b@example.net", "leeds"],
        ["c@example.net", "york"],
        ["d@example.net", "leeds"],
    ]
    job = register.check(register.upload(register.csv(rows)))
    assert job.can_apply
    # York is archived between the check and the apply.
    Group.objects.filter(pk=york.pk).update(archived_at=timezone.now())
    job = register.apply(job)
    assert job.status == Status.FAILED
    assert job.next_row == 2
    assert [(e["line"], e["column"]) for e in job.report["errors"]] == [(4, "B")]
    assert "Rows 4 to 5" in job.error_message
    assert set(
        User.objects.filter(email__endswith="example.net").values_list(
            "email", flat=True
        )
    ) == {
        "a@example.net",
        "b@example.net",
    }
    assert not audit_entries()


def test_the_postcode_table_puts_members_in_the_branch_of_their_postcode(
    register, national, leeds, york
):
    table = register.csv(
        [
            ["Postcode prefix", "Branch"],
            ["LS", "leeds"],
            ["YO1", "York branch"],
            ["LS6 1", "york"],
        ]
    )
    check = services.postcode_table_check(
        actor=register.admin, organisation=national.organisation, content=table
    )
    assert check.ok and [(line, prefix) for line, prefix, _ in check.areas] == [
        (2, "LS"),
        (3, "YO1"),
        (4, "LS61"),
    ]
    token = services.postcode_table_token(
        organisation=national.organisation, check=check
    )
    assert (
        services.postcode_table_replace(
            actor=register.admin,
            organisation=national.organisation,
            group=national,
            token=token,
        )
        == 3
    )
    assert len(audit_entries("register.postcode_areas_replaced")) == 1
    register.run(
        register.csv(
            [
                ["email", "zip_code"],
                ["a@example.net", "LS1 4AB"],
                ["b@example.net", "LS6 1AB"],
                ["c@example.net", "YO1 7HH"],
                ["d@example.net", "M1 1AA"],
            ]
        )
    )
    groups = dict(Membership.objects.values_list("user__email", "group__slug"))
    assert groups == {
        "a@example.net": "leeds",
        "b@example.net": "york",  # sector LS6 1 beats area LS
        "c@example.net": "york",
        "d@example.net": national.slug,
        register.admin.email: national.slug,
    }


def test_a_postcode_table_with_bad_rows_names_them_and_changes_nothing(
    register, national, leeds
):
    table = register.csv(
        [["LS", "leeds"], ["LS", "leeds"], ["L$", "leeds"], ["M1", "Narnia"]]
    )
    check = services.postcode_table_check(
        actor=register.admin, organisation=national.organisation, content=table
    )
    assert not check.ok
    assert [(e.line, e.column) for e in check.errors] == [(2, "A"), (3, "A"), (4, "B")]
    assert "also on line 1" in check.errors[0].message


def test_a_postcode_table_token_for_another_organisation_is_refused(
    register, national, leeds
):
    table = register.csv([["LS", "leeds"]])
    check = services.postcode_table_check(
        actor=register.admin, organisation=national.organisation, content=table
    )
    token = services.postcode_table_token(
        organisation=national.organisation, check=check
    )
    with pytest.raises(ValidationError):
        services.postcode_table_replace(
            actor=register.admin,
            organisation=national.organisation,
            group=national,
            token=token + "x",
        )


def test_services_refuse_anyone_but_the_organisation_s_admins(
    register, national, leeds
):
    organiser = make_member(national)
    with pytest.raises(PermissionDenied):
        services.import_upload(
            actor=organiser,
            organisation=national.organisation,
            group=national,
            file_name="r.csv",
            content=b"Email\na@example.net\n",
        )
    job = register.check(register.upload(register.csv(_rows(1))))
    for step in (services.import_apply_start, services.import_resume):
        with pytest.raises(PermissionDenied):
            step(actor=organiser, job=job)
    with pytest.raises(PermissionDenied):
        services.register_export(
            actor=organiser,
            organisation=national.organisation,
            group=national,
            file_format="csv",
        )


def test_an_xlsx_register_is_imported_like_a_csv(register, leeds):
    workbook = Workbook()
    sheet = workbook.active
    for row in [
        ["Email", "First Name", "Last Name", "Branch", "Join Date", "Postcode"],
        ["x1@example.net", "Xi", "One", "leeds", dt.datetime(2018, 7, 1), "LS1 4AB"],
        ["x2@example.net", "Xu", "Two", "", dt.date(2022, 2, 2), 10115],
    ]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = register.run(buffer.getvalue(), name="register.xlsx")
    assert (job.file_format, job.status) == ("xlsx", Status.APPLIED)
    first = RegisterEntry.objects.get(user__email="x1@example.net")
    assert (first.joined_on, first.membership.group) == (dt.date(2018, 7, 1), leeds)
    assert RegisterEntry.objects.get(user__email="x2@example.net").postcode == "10115"


def test_the_apply_runs_a_fixed_number_of_queries_per_batch(register, settings, leeds):
    def queries(rows):
        job = register.check(register.upload(register.csv(rows)))
        services.import_apply_start(actor=register.admin, job=job)
        with CaptureQueriesContext(connection) as captured:
            services.import_apply(job_id=job.pk)
        return len(captured)

    settings.COMMONGROUND_IMPORT_BATCH_SIZE = 100
    # Up to 40 rows: SQLite splits an INSERT above 999 parameters (PostgreSQL does not).
    small = queries(_rows(5))
    large = queries(_rows(40, start=100))
    assert small == large, (small, large)
    # Updating them all (a move to Leeds) costs no more per batch than creating them.
    moved = [["Email", "Branch"]] + [
        [f"m{i}@example.net", "leeds"] for i in range(100, 140)
    ]
    assert queries(moved) <= large + 2


def test_a_stalled_import_can_be_resumed_and_goes_on_from_its_cursor(
    register, settings
):
    settings.COMMONGROUND_IMPORT_BATCH_SIZE = 2
    job = register.check(register.upload(register.csv(_rows(5))))
    services.import_apply_start(actor=register.admin, job=job)
    run = running._Run.of(
        ImportJob.objects.select_related("organisation", "applied_by").get(pk=job.pk)
    )
    first = next(running._batches(run.job, running._content(run.job)))
    assert running._apply_batch(run, *first)  # then the worker vanished
    job.refresh_from_db()
    assert not services.can_resume(job)  # still moving, as far as anyone knows
    ImportJob.objects.filter(pk=job.pk).update(
        progress_at=timezone.now() - timedelta(minutes=11)
    )
    job.refresh_from_db()
    assert services.is_stalled(job) and services.can_resume(job)
    services.import_resume(actor=register.admin, job=job)
    services.import_apply(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.APPLIED
    assert job.counts()["created"] == 5
    assert User.objects.filter(email__startswith="m").count() == 5


def test_the_mapping_cannot_change_once_batches_are_applied(register, settings):
    settings.COMMONGROUND_IMPORT_BATCH_SIZE = 2
    job = register.run(register.csv(_rows(3)))
    assert not services.can_change_mapping(job)
    with pytest.raises(ValidationError, match="no longer be changed"):
        register.check(job)
