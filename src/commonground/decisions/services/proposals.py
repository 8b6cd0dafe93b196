"""Proposals from draft to decision: authors draft and publish, members support, and
enough support (or an organiser) sends it to a ballot whose result settles it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.members.models import Group, User
from commonground.members.selectors import group_active_member_count, viewer_for
from commonground.notifications.services import follow_set

from .. import notifications, rules
from ..models import Amendment, Election, Method, Proposal, ProposalSupport
from . import clock, locks, sealing
from .checks import is_author, require_live, require_member, require_runner
from .elections import ElectionSpec, create_election
from .errors import DecisionRefused

YES_NO_ABSTAIN = ("Yes", "No", "Abstain")


@transaction.atomic
def proposal_create(
    *,
    author: User,
    group: Group,
    title: str,
    text: str,
    coauthors: Sequence[User] = (),
    support_share_percent: int = 10,
    support_period_days: int = 30,
    voting_days: int = 7,
) -> Proposal:
    require_member(author, group)
    require_live(group)
    if not 1 <= support_share_percent <= 100:
        raise ValidationError(
            {"support_share_percent": _("Choose a share from 1 to 100%.")}
        )
    if not 1 <= support_period_days <= 365 or not 1 <= voting_days <= 60:
        raise ValidationError(_("Periods must be between a day and a year."))
    proposal = Proposal.objects.create(
        group=group,
        title=title.strip(),
        text=text,
        author=author,
        support_share_percent=support_share_percent,
        support_period_days=support_period_days,
        voting_days=voting_days,
        created_at=clock.now(),
    )
    _set_coauthors(proposal, coauthors)
    audit_record(actor=author, action="proposal.created", target=proposal, group=group)
    return proposal


def _set_coauthors(proposal: Proposal, coauthors: Sequence[User]) -> None:
    others = [user for user in coauthors if user.pk != proposal.author_id]
    for user in others:
        if not rules.can_take_part(viewer_for(user, proposal.group)):
            raise ValidationError(
                {"coauthors": _("Co-authors must be members of the group.")}
            )
    proposal.coauthors.set(others)


@transaction.atomic
def proposal_update(
    *,
    actor: User,
    proposal: Proposal,
    title: str,
    text: str,
    coauthors: Sequence[User] = (),
) -> Proposal:
    proposal = locks.proposal_for_update(proposal.pk, with_group=False)
    if not is_author(actor, proposal):
        raise PermissionDenied(_("only the proposal's authors can edit it"))
    if proposal.status != Proposal.Status.DRAFT:
        raise DecisionRefused(
            _("A published proposal changes only through amendments.")
        )
    proposal.title = title.strip()
    proposal.text = text
    proposal.save(update_fields=["title", "text"])
    _set_coauthors(proposal, coauthors)
    audit_record(
        actor=actor, action="proposal.edited", target=proposal, group=proposal.group
    )
    return proposal


@transaction.atomic
def proposal_publish(*, actor: User, proposal: Proposal) -> Proposal:
    proposal = locks.proposal_for_update(proposal.pk)
    if not is_author(actor, proposal):
        raise PermissionDenied(_("only the proposal's authors can publish it"))
    if proposal.status != Proposal.Status.DRAFT:
        raise DecisionRefused(_("This proposal is already published."))
    now = clock.now()
    members = group_active_member_count(proposal.group)
    proposal.status = Proposal.Status.DISCUSSION
    proposal.published_at = now
    proposal.support_closes_at = now + timedelta(days=proposal.support_period_days)
    proposal.supporters_needed = max(
        1, math.ceil(members * proposal.support_share_percent / 100)
    )
    proposal.save(
        update_fields=[
            "status",
            "published_at",
            "support_closes_at",
            "supporters_needed",
        ]
    )
    audit_record(
        actor=actor,
        action="proposal.published",
        target=proposal,
        group=proposal.group,
        data={"supporters_needed": proposal.supporters_needed, "members": members},
    )
    notifications.proposal_published(proposal)
    return proposal


@transaction.atomic
def proposal_support(*, member: User, proposal: Proposal) -> Proposal:
    """Add the member's support; at the threshold the proposal goes to a ballot."""
    proposal = locks.proposal_for_update(proposal.pk)
    require_member(member, proposal.group)
    now = clock.now()
    if proposal.status != Proposal.Status.DISCUSSION:
        raise DecisionRefused(_("This proposal is not gathering support."))
    if proposal.support_closes_at and now >= proposal.support_closes_at:
        raise DecisionRefused(_("The time to support this proposal has ended."))
    ProposalSupport.objects.get_or_create(
        proposal=proposal, member=member, defaults={"created_at": now}
    )
    # Supporters hear how it goes, like its authors; they can unfollow.
    follow_set(member=member, target=proposal, following=True)
    _send_if_supported(proposal, now)
    return proposal


@transaction.atomic
def proposal_withdraw_support(*, member: User, proposal: Proposal) -> None:
    proposal = locks.proposal_for_update(proposal.pk, with_group=False)
    if proposal.status != Proposal.Status.DISCUSSION:
        raise DecisionRefused(_("This proposal is no longer gathering support."))
    ProposalSupport.objects.filter(proposal=proposal, member=member).delete()


def _send_if_supported(proposal: Proposal, now: datetime) -> bool:
    """Inside a transaction holding the proposal's row lock."""
    supporters = ProposalSupport.objects.filter(proposal=proposal).count()
    if (
        proposal.supporters_needed is not None
        and supporters >= proposal.supporters_needed
    ):
        _proposal_to_ballot(proposal, actor=None, now=now, reason="enough supporters")
        return True
    return False


@transaction.atomic
def proposal_send_to_ballot(*, actor: User, proposal: Proposal) -> Election:
    proposal = locks.proposal_for_update(proposal.pk)
    require_runner(actor, proposal.group)
    if proposal.status not in (Proposal.Status.DISCUSSION, Proposal.Status.DRAFT):
        raise DecisionRefused(_("This proposal has already gone to a ballot."))
    if proposal.status == Proposal.Status.DRAFT:
        raise DecisionRefused(_("Its authors have not published this proposal yet."))
    return _proposal_to_ballot(
        proposal, actor=actor, now=clock.now(), reason="sent by an organiser"
    )


def _yes_no(title: str, text: str, now: datetime, closes_at: datetime) -> ElectionSpec:
    return ElectionSpec(
        title=title,
        description=text,
        method=Method.YES_NO,
        options=YES_NO_ABSTAIN,
        opens_at=now,
        closes_at=closes_at,
        majority_percent=50,
    )


def _proposal_to_ballot(
    proposal: Proposal, *, actor: User | None, now: datetime, reason: str
) -> Election:
    """A yes/no ballot on the proposal, one on each open amendment, all open now."""
    closes_at = now + timedelta(days=proposal.voting_days)
    election = create_election(
        actor=actor,
        group=proposal.group,
        spec=_yes_no(
            _("Proposal: %(title)s") % {"title": proposal.title},
            proposal.text,
            now,
            closes_at,
        ),
        kind=Election.Kind.PROPOSAL,
        proposal=proposal,
    )
    for amendment in proposal.amendments.filter(
        status__in=[Amendment.Status.PROPOSED, Amendment.Status.TO_VOTE]
    ):
        Amendment.objects.filter(pk=amendment.pk).update(
            status=Amendment.Status.TO_VOTE
        )
        title = _("Amendment to %(proposal)s: %(amendment)s") % {
            "proposal": proposal.title,
            "amendment": amendment.title,
        }
        create_election(
            actor=actor,
            group=proposal.group,
            spec=_yes_no(title, amendment.text, now, closes_at),
            kind=Election.Kind.AMENDMENT,
            proposal=proposal,
            amendment=amendment,
        )
    proposal.status = Proposal.Status.BALLOT
    proposal.sent_to_ballot_at = now
    proposal.save(update_fields=["status", "sent_to_ballot_at"])
    audit_record(
        actor=actor,
        action="proposal.sent_to_ballot",
        target=proposal,
        group=proposal.group,
        reason=reason,
        data={"election": election.pk},
    )
    for created in proposal.elections.all():
        sealing.seal(created, now)
    notifications.proposal_moved(proposal, "ballot")
    return election


def proposals_check_support(*, now: datetime | None = None) -> dict[str, int]:
    """Periodic and idempotent: send supported proposals to a ballot, lapse expired ones."""
    now = now or clock.now()
    sent = lapsed = 0
    for proposal_id in Proposal.objects.filter(
        status=Proposal.Status.DISCUSSION
    ).values_list("pk", flat=True):
        with transaction.atomic():
            proposal = locks.proposal_for_update(proposal_id)
            if proposal.status != Proposal.Status.DISCUSSION:
                continue
            if _send_if_supported(proposal, now):
                sent += 1
            elif proposal.support_closes_at and now >= proposal.support_closes_at:
                proposal.status = Proposal.Status.LAPSED
                proposal.save(update_fields=["status"])
                audit_record(
                    actor=None,
                    action="proposal.lapsed",
                    target=proposal,
                    group=proposal.group,
                )
                notifications.proposal_moved(proposal, "lapsed")
                lapsed += 1
    return {"sent": sent, "lapsed": lapsed}


def proposal_settle_outcome(*, election: Election, outcome: Mapping[str, Any]) -> None:
    """Record what a counted ballot decided about its proposal, if it has one.

    An amendment ballot carries or defeats the amendment; the proposal's own ballot
    passes or fails the proposal, with the result's summary. Other ballots settle
    nothing. Runs inside the transaction that stores the result.
    """
    passed = bool(outcome.get("passed"))
    if election.amendment_id is not None:
        status = Amendment.Status.CARRIED if passed else Amendment.Status.DEFEATED
        Amendment.objects.filter(pk=election.amendment_id).update(status=status)
    elif election.kind == Election.Kind.PROPOSAL and election.proposal_id is not None:
        Proposal.objects.filter(pk=election.proposal_id).update(
            status=Proposal.Status.PASSED if passed else Proposal.Status.FAILED,
            outcome=outcome.get("summary", ""),
        )
        notifications.proposal_moved(
            Proposal.objects.select_related("group", "author").get(
                pk=election.proposal_id
            ),
            "passed" if passed else "failed",
            str(outcome.get("summary", "")),
        )
