"""Every row lock decisions writes take, and the order they take them in.

Across statements the order is: a proposal, then its amendments, then the elections
it sends to a ballot; an election, then a member's participation row in it. Inside
one statement ``select_related`` makes PostgreSQL lock the joined rows as well (a
proposal's or an election's group; a nomination's election and group).

The election row is the close's fence: casts share it (``election_share_clause``),
while sealing, editing, opening and counting take it exclusively. A cast that began
before the close therefore commits before the count reads the ballots, or sees the
close after the lock and stores nothing. SQLite runs one write transaction at a
time, so there the locks change nothing.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

from commonground.members.models import User

from ..models import Amendment, Election, Nomination, Participation, Proposal


def proposal_for_update(proposal_id: int, *, with_group: bool = True) -> Proposal:
    """The proposal, locked (with its group row when ``with_group``)."""
    proposals = Proposal.objects.select_for_update()
    if with_group:
        proposals = proposals.select_related("group")
    return proposals.get(pk=proposal_id)


def amendment_for_update(amendment_id: int) -> Amendment:
    """The amendment, locked; take its proposal's lock first."""
    return Amendment.objects.select_for_update().get(pk=amendment_id)


def nomination_for_update(nomination_id: int) -> Nomination:
    """The nomination with its election and group, all three locked."""
    return (
        Nomination.objects.select_for_update()
        .select_related("election__group")
        .get(pk=nomination_id)
    )


def election_for_update(election_id: int, *, with_group: bool = False) -> Election:
    """The election row, locked exclusively (with its group row when ``with_group``)."""
    elections = Election.objects.select_for_update()
    if with_group:
        elections = elections.select_related("group")
    return elections.get(pk=election_id)


def election_for_count(election_id: int) -> None:
    """Lock the election row exclusively before reading its ballots to count them.

    In-flight casts (which share the lock) commit first; later ones see the close.
    """
    Election.objects.select_for_update().filter(pk=election_id).values("pk").first()


def election_share_clause(connection: BaseDatabaseWrapper) -> str:
    """The clause a cast adds to its one state query to share the election row lock."""
    return " FOR SHARE" if connection.vendor == "postgresql" else ""


def participation_for_update(election: Election, member: User) -> int:
    """Lock the member's participation row (its id): their re-votes run in turn."""
    return (
        Participation.objects.select_for_update()
        .filter(election=election, member=member)
        .values_list("pk", flat=True)
        .get()
    )
