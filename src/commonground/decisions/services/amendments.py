"""Amendments to a proposal under discussion: any member proposes one, and the
authors accept it into their text or let it go to the vote beside the proposal."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.members.models import User

from ..models import Amendment, Proposal
from . import clock, locks
from .checks import is_author, require_member
from .errors import DecisionRefused


@transaction.atomic
def amendment_propose(
    *, member: User, proposal: Proposal, title: str, text: str
) -> Amendment:
    proposal = locks.proposal_for_update(proposal.pk)
    require_member(member, proposal.group)
    if proposal.status != Proposal.Status.DISCUSSION:
        raise DecisionRefused(
            _("Amendments can be proposed while a proposal is under discussion.")
        )
    amendment = Amendment.objects.create(
        proposal=proposal,
        author=member,
        title=title.strip(),
        text=text,
        created_at=clock.now(),
    )
    audit_record(
        actor=member,
        action="amendment.proposed",
        target=amendment,
        group=proposal.group,
    )
    return amendment


@transaction.atomic
def amendment_decide(*, actor: User, amendment: Amendment, accept: bool) -> Amendment:
    """The authors accept an amendment into their text, or let it go to the vote alongside."""
    proposal_id = Amendment.objects.values_list("proposal_id", flat=True).get(
        pk=amendment.pk
    )
    proposal = locks.proposal_for_update(proposal_id)  # before its amendment (locks)
    amendment = locks.amendment_for_update(amendment.pk)
    if not is_author(actor, proposal):
        raise PermissionDenied(_("only the proposal's authors decide on amendments"))
    if (
        proposal.status != Proposal.Status.DISCUSSION
        or amendment.status != Amendment.Status.PROPOSED
    ):
        raise DecisionRefused(_("This amendment has already been decided."))
    if accept:
        amendment.status = Amendment.Status.ACCEPTED
        heading = _("Amendment accepted: %(title)s") % {"title": amendment.title}
        proposal.text = f"{proposal.text.rstrip()}\n\n**{heading}**\n\n{amendment.text}"
        proposal.save(update_fields=["text"])
    else:
        amendment.status = Amendment.Status.TO_VOTE
    amendment.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="amendment.accepted" if accept else "amendment.sent_to_vote",
        target=amendment,
        group=proposal.group,
    )
    return amendment
