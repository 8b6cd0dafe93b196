"""Emails about decisions and the Celery tasks that send them; never any ballot content.

Services call the ``queue_*`` helpers, which send the task once the current
transaction commits, so a rolled-back change never mails anyone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail, send_mass_mail
from django.db import transaction
from django.urls import reverse

from commonground.members.models import User

SUBJECT_PREFIX = "[Common Ground] "


def _site_url(path: str) -> str:
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    return f"{base}{path}"


def _send_each(users: Iterable[User], subject: str, body: str) -> int:
    """One message per member, so no one sees who else received it."""
    messages = [
        (SUBJECT_PREFIX + subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
        for user in users
        if user.deleted_at is None and user.email
    ]
    if not messages:
        return 0
    return send_mass_mail(messages, fail_silently=False)


def election_opened(election: Any, users: Iterable[User]) -> int:
    url = _site_url(reverse("decisions:election_detail", args=[election.pk]))
    body = (
        f"Voting is open in {election.group.name}: {election.title}.\n\n"
        f"It closes at {election.closes_at:%Y-%m-%d %H:%M %Z}. Your vote is secret.\n\n"
        f"Vote here: {url}\n"
    )
    return _send_each(users, f"Voting is open: {election.title}", body)


def election_closing_soon(election: Any, users: Iterable[User]) -> int:
    url = _site_url(reverse("decisions:election_detail", args=[election.pk]))
    body = (
        f"You have not voted yet in {election.group.name}: {election.title}.\n\n"
        f"Voting closes at {election.closes_at:%Y-%m-%d %H:%M %Z}.\n\nVote here: {url}\n"
    )
    return _send_each(users, f"24 hours left to vote: {election.title}", body)


def election_results(election: Any, users: Iterable[User], summary: str) -> int:
    url = _site_url(reverse("decisions:election_results", args=[election.pk]))
    body = (
        f"The results of {election.title} ({election.group.name}) are published.\n\n"
        f"{summary}\n\nFull results, the round-by-round count and every anonymised "
        f"ballot: {url}\nCheck that your ballot was counted with your tracker code.\n"
    )
    return _send_each(users, f"Results: {election.title}", body)


def cast_receipt(election: Any, user: User, tracker: str) -> int:
    """The tracker code by email: proof the ballot was received, never what it says."""
    if user.deleted_at is not None or not user.email:
        return 0
    url = _site_url(reverse("decisions:election_results", args=[election.pk]))
    body = (
        f"Your ballot in {election.title} was received.\n\n"
        f"Tracker code: {tracker}\n\n"
        "After voting closes, the tracker codes of all counted ballots are published; "
        f"find yours there to check your ballot was counted: {url}\n"
        "The tracker does not reveal how you voted, to anyone.\n"
    )
    return send_mail(
        SUBJECT_PREFIX + f"Ballot received: {election.title}",
        body,
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )


# The Celery tasks: ids in, emails out (the names are what the queue carries).


def _election(election_id: int) -> Any:
    from .models import Election

    return Election.objects.select_related("group").get(pk=election_id)


def _roll(election: Any) -> Any:
    from .models import EligibleVoter

    return User.objects.filter(
        pk__in=EligibleVoter.objects.filter(election=election).values("member_id")
    )


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
    tally = election.results.order_by("-counted_at").first()
    summary = tally.outcome.get("summary", "") if tally else ""
    return election_results(election, _roll(election), summary)


@shared_task(name="decisions.email_cast_receipt")
def email_cast_receipt(election_id: int, member_id: int, tracker: str) -> int:
    return cast_receipt(_election(election_id), User.objects.get(pk=member_id), tracker)


# What services call: each queues its task once the current transaction commits.


def queue_election_opened(election_id: int) -> None:
    """Tell the roll that voting is open."""
    transaction.on_commit(lambda: email_election_opened.delay(election_id))


def queue_closing_soon(election_id: int, member_ids: list[int]) -> None:
    """Remind these members (who have not voted) that voting closes soon."""
    transaction.on_commit(lambda: email_closing_soon.delay(election_id, member_ids))


def queue_results(election_id: int) -> None:
    """Tell the roll the results are published."""
    transaction.on_commit(lambda: email_results.delay(election_id))


def queue_cast_receipt(election_id: int, member_id: int, tracker: str) -> None:
    """Send the voter their tracker code (never what they voted)."""
    transaction.on_commit(
        lambda: email_cast_receipt.delay(election_id, member_id, tracker)
    )
