"""What decisions tells members, through ``commonground.notifications``; never ballot content.

Services call the ``queue_*`` helpers inside their transaction: each records the
notifications with :func:`commonground.notifications.services.notify`, whose emails
leave once the transaction commits, so a rolled-back change tells no one. The
``decisions.email_*`` Celery tasks do the same from ids (the names are what the
queue carries). The kinds are registered in this app's capability entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import NotificationKind
from commonground.members import selectors as member_selectors
from commonground.members.models import Group, User
from commonground.notifications.delivery import site_url
from commonground.notifications.services import followers_of, notify

from . import rules

BALLOT_OPENED = "decisions.ballot_opened"
CLOSING_SOON = "decisions.closing_soon"
RESULTS = "decisions.results"
CAST_RECEIPT = "decisions.cast_receipt"
PROPOSAL_MOVED = "decisions.proposal_moved"
PROPOSAL_PUBLISHED = "decisions.proposal_published"


def still_in_group(group_id: int, member_ids: list[int]) -> set[int]:
    """The members still active in the group's subtree (the rest left: told nothing)."""
    group = Group.objects.only("path").get(pk=group_id)
    return set(
        member_selectors.subtree_active_memberships(group)
        .filter(user_id__in=member_ids)
        .values_list("user_id", flat=True)
    )


NOTIFICATION_KINDS = (
    NotificationKind(
        name=BALLOT_OPENED,
        label=_("A ballot opens in my group"),
        default_channel="email",
        statutory=True,
        still_in_group=still_in_group,
        subject_template="decisions/email/opened_subject.txt",
        text_template="decisions/email/opened.txt",
    ),
    NotificationKind(
        name=CLOSING_SOON,
        label=_("A ballot I have not voted in closes soon"),
        default_channel="email",
        still_in_group=still_in_group,
        subject_template="decisions/email/closing_soon_subject.txt",
        text_template="decisions/email/closing_soon.txt",
    ),
    NotificationKind(
        name=RESULTS,
        label=_("Results of a ballot I could vote in"),
        default_channel="email",
        still_in_group=still_in_group,
        subject_template="decisions/email/results_subject.txt",
        text_template="decisions/email/results.txt",
    ),
    NotificationKind(
        name=PROPOSAL_MOVED,
        label=_("A proposal I wrote or follow moves on"),
        default_channel="email",
        subject_template="decisions/email/proposal_moved_subject.txt",
        text_template="decisions/email/proposal_moved.txt",
    ),
    NotificationKind(
        name=PROPOSAL_PUBLISHED,
        label=_("A new proposal in a group I follow"),
        default_channel="daily",
        subject_template="decisions/email/proposal_published_subject.txt",
        text_template="decisions/email/proposal_published.txt",
    ),
    # To the voter only, by email, never in the centre: proof of receipt.
    NotificationKind(
        name=CAST_RECEIPT,
        label=_("Receipt for my ballot"),
        default_channel="email",
        statutory=True,
        in_app=False,
        subject_template="decisions/email/receipt_subject.txt",
        text_template="decisions/email/receipt.txt",
    ),
)


def _election(election_id: int) -> Any:
    from .models import Election

    return Election.objects.select_related("group").get(pk=election_id)


def _roll(election: Any) -> Any:
    from .models import EligibleVoter

    return User.objects.filter(
        pk__in=EligibleVoter.objects.filter(election=election).values("member_id")
    )


def _closes_at(election: Any) -> str:
    return f"{timezone.localtime(election.closes_at):%Y-%m-%d %H:%M %Z}"


def _can_see_decisions_of(group: Group) -> Callable[[Any], bool]:
    return lambda user: rules.can_see_group_decisions(
        member_selectors.viewer_for(user, group)
    )


def _notify_about(
    kind: str,
    election: Any,
    recipients: Any,
    url_name: str,
    *,
    followers: bool = False,
    **context: Any,
) -> int:
    """Notify ``recipients`` about ``election``, linking to its ``url_name`` page;
    with ``followers``, also those who follow it and may see it."""
    path = reverse(url_name, args=[election.pk])
    return len(
        notify(
            kind,
            recipients=recipients,
            group=election.group,
            target=election,
            url=path,
            context={"election": election, "url": site_url(path), **context},
            include_followers=followers,
            can_see=_can_see_decisions_of(election.group) if followers else None,
        )
    )


def proposal_published(proposal: Any) -> int:
    """Tell the followers of the proposal's group (its authors excepted)."""
    authors = {proposal.author_id, *proposal.coauthors.values_list("pk", flat=True)}
    followers = [pk for pk in followers_of(proposal.group) if pk not in authors]
    if not followers:
        return 0
    path = reverse("decisions:proposal_detail", args=[proposal.pk])
    return len(
        notify(
            PROPOSAL_PUBLISHED,
            recipients=User.objects.filter(pk__in=followers),
            group=proposal.group,
            target=proposal,
            url=path,
            context={"proposal": proposal, "url": site_url(path)},
            can_see=_can_see_decisions_of(proposal.group),
        )
    )


def proposal_moved(proposal: Any, stage: str, summary: str = "") -> int:
    """Tell the proposal's authors and followers it went to a ballot, was decided or
    lapsed (``stage``: ballot, passed, failed, lapsed)."""
    path = reverse("decisions:proposal_detail", args=[proposal.pk])
    authors = [proposal.author, *proposal.coauthors.all()]
    return len(
        notify(
            PROPOSAL_MOVED,
            recipients=authors,
            group=proposal.group,
            target=proposal,
            url=path,
            context={
                "proposal": proposal,
                "stage": stage,
                "summary": summary,
                "url": site_url(path),
            },
            include_followers=True,
            can_see=_can_see_decisions_of(proposal.group),
        )
    )


def election_opened(election: Any, users: Any) -> int:
    return _notify_about(
        BALLOT_OPENED,
        election,
        users,
        "decisions:election_detail",
        closes_at=_closes_at(election),
    )


def election_closing_soon(election: Any, users: Any) -> int:
    return _notify_about(
        CLOSING_SOON,
        election,
        users,
        "decisions:election_detail",
        closes_at=_closes_at(election),
    )


def election_results(election: Any, users: Any, summary: str) -> int:
    return _notify_about(
        RESULTS,
        election,
        users,
        "decisions:election_results",
        followers=True,
        summary=summary,
    )


def cast_receipt(election: Any, user: User, tracker: str) -> int:
    """The tracker code by email: proof the ballot was received, never what it says."""
    return _notify_about(
        CAST_RECEIPT, election, [user], "decisions:election_results", tracker=tracker
    )


def _results_summary(election: Any) -> str:
    tally = election.results.order_by("-counted_at").first()
    return str(tally.outcome.get("summary", "")) if tally else ""


# The Celery tasks: ids in, notifications out.


@shared_task(name="decisions.email_election_opened")
def email_election_opened(election_id: int) -> int:
    election = _election(election_id)
    return election_opened(election, _roll(election))


@shared_task(name="decisions.email_closing_soon")
def email_closing_soon(election_id: int, member_ids: list[int]) -> int:
    return election_closing_soon(
        _election(election_id), User.objects.filter(pk__in=member_ids)
    )


@shared_task(name="decisions.email_results")
def email_results(election_id: int) -> int:
    election = _election(election_id)
    return election_results(election, _roll(election), _results_summary(election))


@shared_task(name="decisions.email_cast_receipt")
def email_cast_receipt(election_id: int, member_id: int, tracker: str) -> int:
    return cast_receipt(_election(election_id), User.objects.get(pk=member_id), tracker)


# What services call, inside their transaction: the emails leave after it commits.


def queue_election_opened(election_id: int) -> None:
    """Tell the roll that voting is open."""
    email_election_opened(election_id)


def queue_closing_soon(election_id: int, member_ids: list[int]) -> None:
    """Remind these members (who have not voted) that voting closes soon."""
    email_closing_soon(election_id, member_ids)


def queue_results(election_id: int) -> None:
    """Tell the roll the results are published."""
    email_results(election_id)


def queue_cast_receipt(election_id: int, member_id: int, tracker: str) -> None:
    """Send the voter their tracker code (never what they voted)."""
    email_cast_receipt(election_id, member_id, tracker)


# Receipts of casts: a row in the cast's transaction, sent by the worker.

RECEIPTS_KICK_KEY = "decisions:cast-receipts-kicked"
RECEIPTS_KICK_SECONDS = 1
RECEIPTS_BATCH = 200


def queue_cast_receipt_row(election_id: int, member_id: int, tracker: str) -> None:
    """Record the receipt to send inside the caller's (the cast's) transaction and
    wake the worker after the commit.

    A cast at peak must not pay for rendering a notification or publishing a task:
    the row costs one insert in the cast's transaction, and the wake-up at most one
    task a second (a shared-cache ``add``); the task sends every row waiting and
    runs again a second later while receipts keep coming, and the minute sweep
    sends whatever a lost wake-up left behind.
    """
    from .models import PendingCastReceipt

    # One plain insert: no model instance, no RETURNING. Only the table name from
    # the model is interpolated (S608 is a false alarm).
    sql = (
        f"INSERT INTO {PendingCastReceipt._meta.db_table}"  # noqa: S608
        " (election_id, member_id, tracker) VALUES (%s, %s, %s)"
    )
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(sql, [election_id, member_id, tracker])
    # Robust: a broker or cache hiccup after the commit is logged, never turned into
    # an error page for a ballot that was recorded; the minute sweep sends the row.
    transaction.on_commit(_wake_receipt_sender, robust=True)


def _wake_receipt_sender() -> None:
    if send_cast_receipts.app.conf.task_always_eager:
        send_cast_receipts()
    elif cache.add(RECEIPTS_KICK_KEY, 1, timeout=RECEIPTS_KICK_SECONDS):
        send_cast_receipts.delay()


@shared_task(name="decisions.send_cast_receipts")
def send_cast_receipts() -> int:
    """Turn waiting receipt rows into notifications (emails after commit), each row
    deleted in the same transaction as its notification is recorded; concurrent
    runs skip each other's rows. Returns how many were sent."""
    from .models import PendingCastReceipt

    sent = 0
    while True:
        with transaction.atomic():
            rows = list(
                PendingCastReceipt.objects.select_for_update(skip_locked=True)
                .select_related("election__group", "member")
                .order_by("pk")[:RECEIPTS_BATCH]
            )
            for row in rows:
                cast_receipt(row.election, row.member, row.tracker)
            PendingCastReceipt.objects.filter(pk__in=[row.pk for row in rows]).delete()
        sent += len(rows)
        if len(rows) < RECEIPTS_BATCH:
            break
    if sent and not send_cast_receipts.app.conf.task_always_eager:
        # Receipts are still coming in: look again in a second.
        send_cast_receipts.apply_async(countdown=RECEIPTS_KICK_SECONDS)
    return sent
