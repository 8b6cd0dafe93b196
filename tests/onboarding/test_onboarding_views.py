"""The register pages through real requests: the admin's path from upload to
import, refusals to everyone else (404, also for another organisation's jobs and
exports), htmx progress, and the accessible mapping form."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from commonground.audit.models import AuditEntry
from commonground.members.models import Role, User
from commonground.onboarding.models import ImportJob, PostcodeArea
from factories import OrganisationFactory, make_group, make_member, make_role

pytestmark = pytest.mark.django_db
Status = ImportJob.Status
ROWS = [
    ["first_name", "last_name", "email", "zip_code", "Branch"],
    ["Ann", "Lee", "ann@example.net", "LS6 1AB", "leeds"],
    ["Bo", "Ng", "bo@example.net", "", ""],
]


def url(group, *parts):
    return "/onboarding/" + "/".join([group.slug, *map(str, parts)]) + "/"


def upload_file(content, name="register.csv"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def mapping_post(job, **overrides):
    data = {f"column_{i}": key for i, key in enumerate(job.mapping)}
    data.update(postcode_rule="generic", postcode_pattern="", date_order="day")
    data.update(overrides)
    return data


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


@pytest.fixture
def job(register, leeds):
    return register.upload(register.csv(ROWS))


def test_the_register_is_a_section_of_the_top_group_for_its_admins_only(
    client, admin, national, leeds, second_factor
):
    client.force_login(admin)
    page = client.get(f"/groups/{national.slug}/").content.decode()
    assert f'href="/onboarding/{national.slug}/"' in page
    assert "Membership register" in page
    # Not on a branch, and not for an organiser of the top group.
    assert (
        "Membership register"
        not in client.get(f"/groups/{leeds.slug}/").content.decode()
    )
    organiser = second_factor(make_role(national, Role.ORGANISER))
    client.force_login(organiser)
    assert (
        "Membership register"
        not in client.get(f"/groups/{national.slug}/").content.decode()
    )


def test_the_admin_uploads_maps_checks_and_imports(
    admin_client, national, leeds, django_capture_on_commit_callbacks
):
    page = admin_client.get(url(national))
    assert page.status_code == 200
    assert "<title>Membership register · Renters Union" in page.content.decode()
    response = admin_client.post(
        url(national, "imports"), {"file": upload_file(ROWS_CSV)}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url(national, "imports", job.pk, "mapping")

    mapping = admin_client.get(response["Location"]).content.decode()
    assert "<caption>Columns of register.csv and what each holds</caption>" in mapping
    for index, header in enumerate(ROWS[0]):
        # One select per column, labelled by the column's row header.
        assert re.search(
            rf'<label for="id_column_{index}">[A-E] · {header}</label>', mapping
        ), header
        assert f'<select name="column_{index}"' in mapping

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url(national, "imports", job.pk, "mapping"), mapping_post(job)
        )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Status.CHECKED and job.can_apply
    report = admin_client.get(url(national, "imports", job.pk)).content.decode()
    assert "What the import will do" in report and "Import 2 rows" in report

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url(national, "imports", job.pk, "apply"))
    job.refresh_from_db()
    assert job.status == Status.APPLIED
    assert (
        User.objects.filter(email__in=["ann@example.net", "bo@example.net"]).count()
        == 2
    )
    assert AuditEntry.objects.filter(action="register.imported").count() == 1
    done = admin_client.get(url(national, "imports", job.pk)).content.decode()
    assert "What the import did" in done


ROWS_CSV = "\r\n".join(",".join(row) for row in ROWS).encode()


def test_a_file_in_another_encoding_is_refused_with_an_alert_naming_the_line(
    admin_client, national
):
    content = "email,name\nann@example.net,Zoë\n".encode("latin-1")
    response = admin_client.post(
        url(national, "imports"), {"file": upload_file(content)}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page and "line 2" in page and "UTF-8" in page
    assert not ImportJob.objects.exists()


def test_a_mapping_without_email_is_refused_in_an_alert(admin_client, national, job):
    response = admin_client.post(
        url(national, "imports", job.pk, "mapping"), mapping_post(job, column_2="")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page and "Choose the column that holds the email" in page
    job.refresh_from_db()
    assert job.status == Status.UPLOADED


def test_the_report_lists_each_failing_row_and_offers_no_import(
    admin_client, national, leeds, register, django_capture_on_commit_callbacks
):
    job = register.upload(
        register.csv([*ROWS, ["Cy", "Roe", "bo@example.net", "!!", "Narnia"]])
    )
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            url(national, "imports", job.pk, "mapping"), mapping_post(job)
        )
    page = admin_client.get(url(national, "imports", job.pk)).content.decode()
    assert "1 row cannot be imported." in page
    assert "bo@example.net is also on line 3" in page
    assert "No group “Narnia”" in page
    assert "Import 3 rows" not in page
    response = admin_client.post(url(national, "imports", job.pk, "apply"))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Status.CHECKED


def test_the_progress_part_polls_with_htmx_and_works_without_javascript(
    admin_client, national, job
):
    ImportJob.objects.filter(pk=job.pk).update(
        status=Status.APPLYING, total_rows=2000, rows_done=1000
    )
    full = admin_client.get(url(national, "imports", job.pk)).content.decode()
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in full
    assert f'href="{url(national, "imports", job.pk)}">Refresh now</a>' in full
    partial = admin_client.get(url(national, "imports", job.pk), HTTP_HX_REQUEST="true")
    text = partial.content.decode()
    assert "<html" not in text
    assert 'hx-trigger="every 2s"' in text and 'hx-swap="outerHTML"' in text
    assert '<progress class="progress" max="2000" value="1000"' in text
    assert "1,000 of 2,000 rows imported." in text
    # Done: the part comes back without polling.
    ImportJob.objects.filter(pk=job.pk).update(status=Status.APPLIED)
    text = admin_client.get(
        url(national, "imports", job.pk), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "hx-trigger" not in text and "What the import did" in text


def test_pages_are_refused_to_members_and_organisers(
    client, national, job, second_factor
):
    organiser = second_factor(make_role(national, Role.ORGANISER))
    for person in (make_member(national), organiser):
        client.force_login(person)
        for path in (
            url(national),
            url(national, "imports", job.pk),
            url(national, "imports", job.pk, "mapping"),
            url(national, "postcodes"),
        ):
            assert client.get(path).status_code == 404, path
        for path in (
            url(national, "imports"),
            url(national, "imports", job.pk, "apply"),
            url(national, "export", "csv"),
            url(national, "postcodes", "replace"),
        ):
            assert client.post(path).status_code == 404, path


def test_an_admin_of_another_organisation_cannot_reach_this_one_s_jobs_or_export(
    client, national, job, second_factor
):
    other_top = make_group(organisation=OrganisationFactory(), name="Other national")
    other_admin = second_factor(make_role(other_top, Role.ADMIN))
    client.force_login(other_admin)
    # Through this organisation's pages...
    assert client.get(url(national, "imports", job.pk)).status_code == 404
    assert client.post(url(national, "export", "csv")).status_code == 404
    # ...and through their own organisation's pages with this job's number.
    for path in ("", "mapping"):
        assert (
            client.get(
                url(other_top, "imports", job.pk, path)
                if path
                else url(other_top, "imports", job.pk)
            ).status_code
            == 404
        )
    for path in ("apply", "resume"):
        assert client.post(url(other_top, "imports", job.pk, path)).status_code == 404
    # Their own export holds nothing of this organisation.
    response = client.post(url(other_top, "export", "csv"))
    assert response.status_code == 200
    assert b"ann@example.net" not in b"".join(response.streaming_content)


def test_a_branch_slug_is_not_a_register(admin_client, leeds):
    assert admin_client.get(url(leeds)).status_code == 404


def test_export_is_a_download_for_post_only_and_logged(
    admin_client, national, register, leeds
):
    register.run(register.csv(ROWS))
    assert admin_client.get(url(national, "export", "csv")).status_code == 405
    response = admin_client.post(url(national, "export", "csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.match(
        r'attachment; filename="renters-register-\d{4}-\d\d-\d\d.csv"',
        response["Content-Disposition"],
    )
    body = b"".join(response.streaming_content).decode()
    assert "ann@example.net" in body and "bo@example.net" in body
    osdi = admin_client.post(url(national, "export", "osdi"))
    assert osdi["Content-Type"] == "application/json; charset=utf-8"
    assert admin_client.post(url(national, "export", "xml")).status_code == 404
    assert AuditEntry.objects.filter(action="register.exported").count() == 2


def test_the_postcode_table_is_checked_then_replaced(admin_client, national, leeds):
    table = b"prefix,branch\nLS,leeds\nLS6 1,Leeds branch\n"
    response = admin_client.post(
        url(national, "postcodes"), {"file": upload_file(table, "areas.csv")}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "2 prefixes checked" in page
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    assert not PostcodeArea.objects.exists()  # the check changes nothing
    response = admin_client.post(
        url(national, "postcodes", "replace"), {"token": token}
    )
    assert response.status_code == 302
    assert sorted(PostcodeArea.objects.values_list("prefix", flat=True)) == [
        "LS",
        "LS61",
    ]
    assert "2 prefixes" in admin_client.get(url(national, "postcodes")).content.decode()


def test_a_bad_postcode_table_is_reported_line_by_line(admin_client, national, leeds):
    response = admin_client.post(
        url(national, "postcodes"),
        {"file": upload_file(b"LS,leeds\nL$,leeds\nM1,nowhere\n")},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page and "2 problems: nothing was changed" in page
    assert "No open group “nowhere”" in page


def test_the_mapping_page_of_an_applied_import_leads_back_to_its_report(
    admin_client, national, register, leeds
):
    job = register.run(register.csv(ROWS))
    response = admin_client.get(url(national, "imports", job.pk, "mapping"))
    assert response.status_code == 302
    assert response["Location"] == url(national, "imports", job.pk)


def test_reading_every_register_page_writes_nothing(
    admin_client, national, register, leeds
):
    job = register.run(register.csv(ROWS))
    pending = register.upload(register.csv(ROWS))
    counts = [
        model.objects.count() for model in (ImportJob, User, AuditEntry, PostcodeArea)
    ]
    for path in (
        url(national),
        url(national, "imports", job.pk),
        url(national, "imports", pending.pk),
        url(national, "imports", pending.pk, "mapping"),
        url(national, "postcodes"),
    ):
        assert admin_client.get(path).status_code == 200, path
    assert counts == [
        model.objects.count() for model in (ImportJob, User, AuditEntry, PostcodeArea)
    ]
    assert ImportJob.objects.get(pk=pending.pk).status == Status.UPLOADED


def test_the_register_page_s_queries_do_not_grow_with_its_imports(
    admin_client, national, register, django_assert_max_num_queries
):
    register.upload(register.csv(ROWS))
    with django_assert_max_num_queries(40) as first:
        admin_client.get(url(national))
    for _ in range(5):
        register.upload(register.csv(ROWS))
    with django_assert_max_num_queries(len(first.captured_queries)):
        admin_client.get(url(national))
