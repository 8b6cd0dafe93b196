"""The adapter to the tally engine: stored ballots in, counts, outcomes and reports out.

Everything the engine needs is stored with the result (``TallyResult.engine_input`` and
``ballots_text``), so ``commonground tally`` on the published files gives the same
``result_json`` (tests/decisions/test_decisions_counting.py proves it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from commonground.engines.tally import Election as TallyElection
from commonground.engines.tally import count, limits_for

from .models import Election, Method
from .secrecy import sha256_text

METHOD_VERSION = "commonground-tally/1"

ENGINE_METHODS = {
    Method.YES_NO: "plurality",
    Method.APPROVAL: "approval",
    Method.SCORE: "score",
    Method.STAR: "star",
    Method.IRV: "irv",
    Method.STV: "stv",
    Method.SCHULZE: "schulze",
}


def engine_arguments(election: Election) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "method": ENGINE_METHODS[Method(election.method)],
        "seats": election.seats,
        "seed": election.seed,
    }
    if election.method == Method.STV:
        arguments["rules"] = election.rules
    if election.method in (Method.SCORE, Method.STAR):
        arguments["max_score"] = election.max_score
    return arguments


def candidate_limit(method: str, rules: str) -> int:
    """The most options or candidates the engine counts with this method (the
    engine's documented limits, docs/reliability.md); ballot forms refuse more."""
    engine_method = ENGINE_METHODS[Method(method)]
    return limits_for(
        engine_method, rules if engine_method == "stv" else None
    ).candidates


def tally_election(
    candidates: Sequence[str],
    papers: Sequence[Mapping[str, Any]],
    *,
    title: str,
    seats: int,
) -> TallyElection:
    if papers and "grid" in papers[0]:
        # Grid ballots are published as CSV, which has no title: count without one so
        # that ``commonground tally`` on the CSV reproduces the result byte for byte.
        return TallyElection.from_grid(candidates, [paper["grid"] for paper in papers])
    if not papers:
        return TallyElection.from_rankings(candidates, [], title=title, seats=seats)
    rankings = [[list(group) for group in paper["ranking"]] for paper in papers]
    return TallyElection.from_rankings(candidates, rankings, title=title, seats=seats)


@dataclass(frozen=True)
class Counted:
    engine_input: dict[str, Any]
    ballots_text: str
    ballots_sha256: str
    result_json: str
    result: dict[str, Any]


def count_ballots(
    election: Election, candidates: Sequence[str], payloads: Sequence[str]
) -> Counted:
    """Run the engine on the sorted canonical payloads; pure apart from reading ``election``."""
    ordered = sorted(payloads)
    ballots_text = "".join(payload + "\n" for payload in ordered)
    papers = [json.loads(payload) for payload in ordered]
    arguments = engine_arguments(election)
    engine = tally_election(
        candidates, papers, title=election.title, seats=election.seats
    )
    if not papers and election.method in (
        Method.YES_NO,
        Method.APPROVAL,
        Method.SCORE,
        Method.STAR,
    ):
        engine = TallyElection.from_grid(candidates, [])
    result = count(engine, **arguments).to_dict()
    return Counted(
        engine_input={
            "candidates": list(candidates),
            "title": election.title,
            **arguments,
        },
        ballots_text=ballots_text,
        ballots_sha256=sha256_text(ballots_text),
        result_json=result_json(result),
        result=result,
    )


def result_json(result: Mapping[str, Any]) -> str:
    """The published result file: compact UTF-8 JSON in the engine's own key order.

    Deliberately not ``core.canonical.canonical_json`` (which sorts keys): the file
    reads in the engine's order (format, method, ..., rounds, winners), its SHA-256 is
    stored in every TallyResult and published, and a re-count must give the same
    bytes as ``json.dumps`` of the engine's ``to_dict()``, which the tests compare.
    """
    return json.dumps(result, ensure_ascii=False, separators=(",", ":"))


def election_outcome(
    election: Election, result: Mapping[str, Any], *, roll_size: int
) -> dict[str, Any]:
    """What members need to know: who won, or whether the motion passed (and why)."""
    ballots = int(result["input"]["ballots"])
    quorum_met = ballots * 100 >= election.quorum_percent * roll_size
    outcome: dict[str, Any] = {
        "winners": list(result["winners"]),
        "ballots": ballots,
        "roll_size": roll_size,
        "quorum_met": quorum_met,
    }
    if election.method == Method.YES_NO:
        tallies = result["rounds"][0]["tallies"] if result["rounds"] else {}
        yes, no, abstain = (
            int(Decimal(tallies.get(label, "0"))) for label in ("Yes", "No", "Abstain")
        )
        majority_met = yes * 100 > election.majority_percent * (yes + no)
        passed = quorum_met and majority_met
        outcome.update(
            {
                "yes": yes,
                "no": no,
                "abstain": abstain,
                "passed": passed,
                "majority_met": majority_met,
            }
        )
        counts = {
            "yes": yes,
            "no": no,
            "abstain": abstain,
            "ballots": ballots,
            "roll_size": roll_size,
        }
        if passed:
            summary = _(
                "Passed: %(yes)s yes, %(no)s no, %(abstain)s abstain; "
                "%(ballots)s of %(roll_size)s eligible members voted."
            )
        elif quorum_met:
            summary = _(
                "Not passed: %(yes)s yes, %(no)s no, %(abstain)s abstain; "
                "%(ballots)s of %(roll_size)s eligible members voted."
            )
        else:
            summary = _(
                "Not passed (the quorum was not reached): %(yes)s yes, %(no)s no, "
                "%(abstain)s abstain; %(ballots)s of %(roll_size)s eligible members "
                "voted."
            )
        outcome["summary"] = summary % counts
    else:
        # With no ballot at all the engine would choose by lot: nobody is chosen.
        passed = quorum_met and ballots > 0
        outcome["passed"] = passed
        counts = {"ballots": ballots, "roll_size": roll_size}
        if not ballots:
            outcome["summary"] = _(
                "No ballots were cast (%(roll_size)s eligible); nobody is chosen."
            ) % {"roll_size": roll_size}
        elif not quorum_met:
            outcome["summary"] = (
                _(
                    "The quorum was not reached (%(ballots)s of %(roll_size)s voted); "
                    "nobody is chosen."
                )
                % counts
            )
        else:
            names = ", ".join(result["winners"]) or _("nobody")
            if election.kind == Election.Kind.ELECTION:
                summary = _(
                    "Elected: %(names)s. "
                    "%(ballots)s of %(roll_size)s eligible members voted."
                )
            else:
                summary = _(
                    "Chosen: %(names)s. "
                    "%(ballots)s of %(roll_size)s eligible members voted."
                )
            outcome["summary"] = summary % {"names": names, **counts}
        if not passed:
            outcome["winners"] = []
    return outcome


def round_sentence(round_data: Mapping[str, Any], quota: str | None) -> str:
    """A plain-English account of one round of the engine's trace.

    The engine's own sentence is used when its result carries one (``sentence``);
    otherwise it is written here from the round's action, subject and decisions.
    """
    if round_data.get("sentence"):
        return str(round_data["sentence"])
    action = round_data.get("action", "")
    subject = ", ".join(round_data.get("subject", []))
    elected = ", ".join(round_data.get("elected", []))
    excluded = ", ".join(round_data.get("excluded", []))
    parts: list[str] = []
    if action in ("first_count", "count", "scoring"):
        ranked_round = action == "first_count" or bool(round_data.get("threshold"))
        parts.append(
            _("Every ballot counts for its first choice.")
            if ranked_round and round_data.get("round", 1) == 1
            else _("Every ballot counts for its highest-ranked remaining candidate.")
            if ranked_round
            else _("The votes are totalled.")
        )
        if quota:
            parts.append(_("The quota to be elected is %(quota)s.") % {"quota": quota})
    elif action == "surplus":
        parts.append(
            _(
                "%(subject)s had more votes than the quota; the surplus of "
                "%(amount)s moves to the next preferences."
            )
            % {"subject": subject, "amount": round_data.get("amount")}
        )
    elif action in ("exclusion", "elimination"):
        parts.append(
            _(
                "%(subject)s had the fewest votes and is excluded; their ballots "
                "move to their next preferences."
            )
            % {"subject": subject}
        )
    elif action == "elect_remaining":
        parts.append(
            _("As many candidates remain as seats are left, so they are all elected.")
        )
    elif action == "runoff":
        parts.append(
            _(
                "The two highest-scoring finalists go to an automatic runoff: each "
                "ballot counts for the finalist it scores higher."
            )
        )
    elif action == "pairwise":
        parts.append(
            _("Every pair of candidates is compared head to head across all ballots.")
        )
    if round_data.get("threshold"):
        parts.append(
            _("A candidate needs more than %(threshold)s votes to win.")
            % {"threshold": round_data["threshold"]}
        )
    if elected:
        parts.append(_("Elected: %(names)s.") % {"names": elected})
    if excluded and action not in ("exclusion", "elimination"):
        parts.append(_("Excluded next: %(names)s.") % {"names": excluded})
    exhausted = round_data.get("exhausted")
    if exhausted and Decimal(exhausted) > 0:
        parts.append(
            _("Ballots with no further choice so far: %(count)s.")
            % {"count": exhausted}
        )
    return " ".join(parts)


def rctab_summary(
    result: Mapping[str, Any], *, contest: str, date: str, jurisdiction: str
) -> dict[str, Any]:
    """The summary in RCTab's JSON layout (read by rcvis.com), from a round-by-round result."""
    rounds = result.get("rounds", [])
    results: list[dict[str, Any]] = []
    previously_out: set[str] = set()
    for index, round_data in enumerate(rounds):
        tally = {
            name: _plain(value)
            for name, value in round_data.get("tallies", {}).items()
            if name not in previously_out
        }
        tally_results = []
        leaving = [("elected", n) for n in sorted(round_data.get("elected", []))] + [
            ("eliminated", n) for n in sorted(round_data.get("excluded", []))
        ]
        for key, name in leaving:
            transfers = _rctab_transfers(rounds, index, name)
            tally_results.append({key: name, "transfers": transfers})
        for name in round_data.get("excluded", []):
            previously_out.add(name)
        results.append(
            {
                "round": round_data.get("round", index + 1),
                "tally": tally,
                "tallyResults": tally_results,
                "threshold": _plain(
                    round_data.get("threshold") or result.get("quota") or "0"
                ),
                "inactiveBallots": {
                    "exhaustedChoices": _plain(round_data.get("exhausted", "0")),
                    "overvotes": "0",
                    "repeatedRankings": "0",
                    "skippedRankings": "0",
                },
            }
        )
    last = results[-1]["threshold"] if results else "0"
    return {
        "config": {
            "contest": contest,
            "date": date,
            "generatedBy": "Common Ground (commonground-tally/1)",
            "jurisdiction": jurisdiction,
            "office": "",
        },
        "jsonFormatVersion": "1",
        "results": results,
        "summary": {
            "finalThreshold": last,
            "numCandidates": len(result["input"]["candidates"]),
            "numWinners": int(result.get("seats") or 1),
            "totalNumBallots": _plain(result["input"]["ballots"]),
            "undervotes": int(Decimal(result["input"]["invalid"]["count"])),
        },
    }


def _rctab_transfers(
    rounds: Sequence[Mapping[str, Any]], index: int, name: str
) -> dict[str, str]:
    """Where the votes of ``name`` (elected or out in round ``index``) went next."""
    transfers: dict[str, str] = {}
    # The round that moves this candidate's votes: usually the next one; an
    # STV surplus may wait for a larger one to be transferred first.
    moving = next(
        (
            later
            for later in range(index + 1, len(rounds))
            if name in rounds[later].get("subject", [])
        ),
        None,
    )
    if moving is None:
        return transfers
    following = rounds[moving]
    for receiver, amount in following.get("transfers", {}).items():
        if receiver != name and Decimal(amount) > 0:
            transfers[receiver] = _plain(amount)
    exhausted_before = Decimal(rounds[moving - 1].get("exhausted", "0"))
    exhausted_after = Decimal(following.get("exhausted", "0"))
    if exhausted_after > exhausted_before:
        transfers["exhausted"] = _plain(str(exhausted_after - exhausted_before))
    # What truncation kept back (Scottish/WIGM rules): RCTab's term.
    lost = Decimal(following.get("rounding_loss", "0") or "0")
    if lost > 0:
        transfers["residual surplus"] = _plain(str(lost))
    return transfers


def _plain(value: str) -> str:
    """Drop trailing zero decimals, as RCTab prints whole numbers ("12", not "12.00000")."""
    number = Decimal(value)
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")
