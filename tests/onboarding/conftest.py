"""Shared set-up for the register tests: an organisation with a top-level group and
two branches, its admin (with the second factor admins must have), and ``register``,
which builds register files and runs an import through its services step by step
(the background tasks' bodies are called directly, as a worker would)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from allauth.mfa.models import Authenticator

from commonground.members.models import Group, Role
from commonground.onboarding import services
from commonground.onboarding.models import ImportJob
from factories import OrganisationFactory, make_group, make_role


def with_second_factor(user: Any) -> Any:
    Authenticator.objects.get_or_create(
        user=user, type=Authenticator.Type.TOTP, defaults={"data": {"secret": "x"}}
    )
    return user


class Register:
    """Files and import steps for one organisation's top-level group and admin."""

    def __init__(self, admin: Any, group: Any) -> None:
        self.admin = admin
        self.group = group

    @staticmethod
    def csv(rows: list[list[str]], *, bom: bool = False, delimiter: str = ",") -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
        return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()

    def upload(self, content: bytes, name: str = "register.csv") -> ImportJob:
        return services.import_upload(
            actor=self.admin,
            organisation=self.group.organisation,
            group=self.group,
            file_name=name,
            content=content,
        )

    def check(self, job: ImportJob, **rules: Any) -> ImportJob:
        """Save the (guessed or given) mapping and run the dry run."""
        services.import_mapping_save(
            actor=self.admin,
            job=job,
            mapping=rules.get("mapping") or job.mapping,
            postcode_rule=rules.get("postcode_rule", "generic"),
            postcode_pattern=rules.get("postcode_pattern", ""),
            day_first=rules.get("day_first", True),
        )
        services.import_check(job_id=job.pk)
        job.refresh_from_db()
        return job

    def apply(self, job: ImportJob) -> ImportJob:
        services.import_apply_start(actor=self.admin, job=job)
        services.import_apply(job_id=job.pk)
        job.refresh_from_db()
        return job

    def run(
        self, content: bytes, name: str = "register.csv", **rules: Any
    ) -> ImportJob:
        """Upload, check and (when the check passes) apply a register file."""
        job = self.check(self.upload(content, name), **rules)
        return self.apply(job) if job.can_apply else job


@pytest.fixture
def organisation():
    return OrganisationFactory(name="Renters Union", slug="renters")


@pytest.fixture
def national(organisation):
    return make_group(
        organisation=organisation, name="Renters national", kind=Group.Kind.NATIONAL
    )


def _branch(national: Any, name: str, slug: str) -> Any:
    group = make_group(parent=national, name=name)
    Group.objects.filter(pk=group.pk).update(slug=slug)
    group.slug = slug
    return group


@pytest.fixture
def leeds(national):
    return _branch(national, "Leeds branch", "leeds")


@pytest.fixture
def york(national):
    return _branch(national, "York branch", "york")


@pytest.fixture
def admin(national):
    return with_second_factor(make_role(national, Role.ADMIN))


@pytest.fixture
def register(admin, national) -> Register:
    return Register(admin, national)


@pytest.fixture
def second_factor():
    return with_second_factor
