"""Two workers on one import at once, on PostgreSQL with real connections: the job
row lock and the cursor let each batch be applied by exactly one of them."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from commonground.audit.models import AuditEntry
from commonground.members.models import Invitation, Membership, User
from commonground.onboarding import services
from commonground.onboarding.models import ImportJob, RegisterEntry

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
ROWS = 60


def test_two_workers_applying_one_import_create_each_member_once(register, settings):
    settings.COMMONGROUND_IMPORT_BATCH_SIZE = 5
    content = register.csv(
        [["Email", "Name"]] + [[f"w{i}@example.net", f"W {i}"] for i in range(ROWS)]
    )
    job = register.check(register.upload(content))
    services.import_apply_start(actor=register.admin, job=job)

    gate = threading.Event()
    errors: list[BaseException] = []

    def worker() -> None:
        gate.wait()
        try:
            services.import_apply(job_id=job.pk)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    job.refresh_from_db()
    assert job.status == ImportJob.Status.APPLIED
    assert job.counts()["created"] == ROWS
    assert User.objects.filter(email__startswith="w").count() == ROWS
    assert Membership.objects.filter(user__email__startswith="w").count() == ROWS
    assert Invitation.objects.filter(user__email__startswith="w").count() == ROWS
    assert RegisterEntry.objects.count() == ROWS
    assert AuditEntry.objects.filter(action="register.imported").count() == 1
