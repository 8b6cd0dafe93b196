"""Set-up for the deliberation tests: a drawn citizens' assembly with its panel.

The panel is written directly (the draw itself is tested with the draw services):
four seated panel members with accounts, one seated person from the open call
without an account, a registrant who was not drawn, and one who dropped out.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

from allauth.account.models import EmailAddress
from django.utils import timezone

from commonground.assemblies.models import (
    Assembly,
    Draw,
    DrawKind,
    DrawStatus,
    PanelSeat,
    Registrant,
    SeatStatus,
    Status,
)
from commonground.assemblies.services import clock as assembly_clock
from commonground.decisions.services import clock as decisions_clock
from commonground.members.models import Role


@dataclass
class Panel:
    assembly: Assembly
    organiser: Any
    panel: list[Any]
    member: Any  # a member of the group, not on the panel
    dropped: Any  # dropped out of the panel
    not_drawn: Any  # in the pool, not drawn
    accountless_seat: PanelSeat
    registrants: list[Registrant]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_panel(*, status: str = Status.DRAWN, slug: str = "transport") -> Panel:
    from factories import UserFactory, make_group, make_member, make_role

    group = make_group(name="Leeds branch")
    organiser = make_role(group, Role.ORGANISER)
    member = make_member(group)
    assembly = Assembly.objects.create(
        group=group,
        title="Leeds transport assembly",
        slug=slug,
        question="How should Leeds move by 2035?",
        panel_size=6,
        kind="citizens",
        status=status,
        created_by=organiser,
    )
    draw = Draw.objects.create(
        assembly=assembly,
        kind=DrawKind.INITIAL,
        number=1,
        seat_count=6,
        pool_sha256=_sha("pool"),
        pool_file=b"pool",
        quotas_sha256=_sha("quotas"),
        quotas_file=b"quotas",
        algorithm="leximin",
        committed_at=timezone.now(),
        status=DrawStatus.DONE,
    )
    panel = [UserFactory() for _ in range(4)]
    dropped, not_drawn = UserFactory(), UserFactory()
    people: list[tuple[Any, str]] = [(user, user.email) for user in panel]
    people += [(None, "walk-in@example.org"), (dropped, dropped.email)]
    people += [(not_drawn, not_drawn.email)]
    registrants = [
        Registrant.objects.create(
            assembly=assembly,
            user=user,
            name=f"Person {index}",
            email=email,
            features={"age": "young" if index % 2 else "old"},
            consent_to_draw=True,
            email_confirmed_at=timezone.now(),
            pseudonym=f"P-{index:04d}-zq",
        )
        for index, (user, email) in enumerate(people)
    ]
    seats = [
        PanelSeat.objects.create(assembly=assembly, registrant=registrant, draw=draw)
        for registrant in registrants[:6]
    ]
    PanelSeat.objects.filter(pk=seats[5].pk).update(
        status=SeatStatus.DROPPED_OUT, dropped_out_at=timezone.now()
    )
    return Panel(
        assembly=assembly,
        organiser=organiser,
        panel=panel,
        member=member,
        dropped=dropped,
        not_drawn=not_drawn,
        accountless_seat=seats[4],
        registrants=registrants,
    )


def confirm_email(user: Any, email: str) -> None:
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": False}
    )


@contextmanager
def at(moment: datetime):
    """Run the assemblies and decisions services at ``moment``."""
    with (
        mock.patch.object(assembly_clock, "now", return_value=moment),
        mock.patch.object(decisions_clock, "now", return_value=moment),
    ):
        yield


def later(days: int = 3) -> datetime:
    return timezone.now() + timedelta(days=days)
