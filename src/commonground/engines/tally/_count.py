"""``count``: run one counting method on an election (spec §3, §4)."""

from __future__ import annotations

from ._condorcet import count_ranked_pairs, count_schulze
from ._election import INT64_LIMIT, Election
from ._errors import TallyInputError, TallyUsageError
from ._irv import count_irv
from ._limits import check_limits
from ._meek import count_meek
from ._result import Result
from ._scoring import count_approval, count_plurality, count_score, count_star
from ._stv import count_scottish, count_wigm
from ._ties import Lot

METHODS = (
    "plurality",
    "approval",
    "score",
    "star",
    "irv",
    "stv",
    "schulze",
    "ranked-pairs",
)
STV_RULES = ("scottish", "meek", "wigm")
SINGLE_WINNER = ("irv", "star", "schulze", "ranked-pairs")
STV_DECIMALS = {"scottish": 5, "wigm": 4, "meek": 9}


def _check_capacity(
    election: Election, method: str, rules: str, max_score: int
) -> None:
    """Refuse ballots whose total weight the method could not count exactly.

    Tallies are int64 amounts scaled by 10**decimals (STV) or by the top score;
    the factor 2 leaves room for intermediate sums. Real elections are many orders
    of magnitude below the bound; this stops a crafted file from wrapping around.
    """
    if method == "stv":
        scale = 10 ** STV_DECIMALS[rules]
    elif method in ("score", "star"):
        scale = max_score
    else:
        scale = 1
    limit = (INT64_LIMIT - 1) // (2 * scale)
    total = election.total_weight
    if total > limit:
        name = f"stv ({rules})" if method == "stv" else method
        raise TallyInputError(
            election.source_file or "<ballots>",
            "ballots",
            "weight",
            f"the ballots weigh {total} in all; {name} counts exactly up to {limit}",
        )


def count(
    election: Election,
    *,
    method: str,
    seats: int | None = None,
    rules: str | None = None,
    seed: int | None = None,
    max_score: int = 5,
) -> Result:
    """Count ``election`` with ``method`` and return the result with its trace.

    Elections beyond the method's limits (``_limits.LIMITS``: candidates,
    distinct ballots, their size, ballot weights) are refused with a
    :class:`TallyInputError` before any counting.

    ``seats`` defaults to 1, or for ``stv`` to the seats the BLT file states.
    ``rules`` (``stv`` only) is ``scottish`` (default), ``meek`` or ``wigm``.
    ``seed`` fixes the lot order (``java.util.Random``) when the ballots carry
    no ``[tie]`` line; without one, lots follow input order with a warning.

    >>> e = Election.from_rankings(["A", "B"], [[0, 1], [1], [0]])
    >>> count(e, method="plurality").winners
    ('A',)
    """
    if method not in METHODS:
        raise TallyUsageError(
            f"unknown method {method!r}; choose one of {', '.join(METHODS)}"
        )
    if rules is not None and method != "stv":
        raise TallyUsageError("rules apply to the stv method only")
    if seats is None:
        seats = (election.seats or 1) if method == "stv" else 1
    if seats < 1:
        raise TallyUsageError("seats must be at least 1")
    if seats > 1 and method in SINGLE_WINNER:
        raise TallyUsageError(f"{method} elects one candidate; seats must be 1")
    if max_score < 1:
        raise TallyUsageError("max score must be at least 1")
    stv_rules = rules or "scottish"
    if method == "stv" and stv_rules not in STV_RULES:
        raise TallyUsageError(
            f"unknown STV rules {stv_rules!r}; choose one of {', '.join(STV_RULES)}"
        )
    check_limits(election, method, stv_rules if method == "stv" else None)
    _check_capacity(election, method, stv_rules, max_score)
    lot = Lot.for_election(election, seed)
    if method == "plurality":
        return count_plurality(election, seats, lot, seed)
    if method == "approval":
        return count_approval(election, seats, lot, seed)
    if method == "score":
        return count_score(election, seats, lot, seed, max_score)
    if method == "star":
        return count_star(election, lot, seed, max_score)
    if method == "irv":
        return count_irv(election, lot, seed)
    if method == "schulze":
        return count_schulze(election, lot, seed)
    if method == "ranked-pairs":
        return count_ranked_pairs(election, lot, seed)
    if stv_rules == "scottish":
        return count_scottish(election, seats, lot, seed)
    if stv_rules == "wigm":
        return count_wigm(election, seats, lot, seed)
    return count_meek(election, seats, lot, seed)
