"""Counting closed elections with the tally engine: methods, outcomes, idempotence, seals."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from commonground.audit.models import AuditEntry
from commonground.decisions import selectors, services
from commonground.decisions.models import Option, TallyResult
from commonground.decisions.services import results
from commonground.decisions.views import results as views
from commonground.engines.tally import Election as TallyElection
from commonground.engines.tally import count

pytestmark = pytest.mark.django_db


def ranks(*positions: int) -> dict[str, str]:
    return {
        f"rank_{position}": str(rank)
        for rank, position in enumerate(positions, start=1)
    }


def close(election):
    return time_machine.travel(election.closes_at + timedelta(seconds=1), tick=False)


def test_no_result_exists_or_is_shown_before_close(open_ballot, members):
    election = open_ballot()
    services.ballot_cast(member=members[0], election=election, marks=ranks(0))
    assert selectors.published_result(election) is None
    with pytest.raises(services.DecisionRefused, match="after voting closes"):
        services.election_count(election_id=election.pk)
    assert TallyResult.objects.count() == 0


def test_irv_count_matches_the_engine_on_the_same_ballots(open_ballot, members):
    # Ann 2 first preferences, Bo 2, Cy 1 (Cy > Bo): Cy is excluded, Bo wins 3 to 2.
    election = open_ballot(options=("Ann", "Bo", "Cy"))
    papers = [ranks(0), ranks(0, 1), ranks(1), ranks(1, 0), ranks(2, 1)]
    for member, marks in zip(members, papers, strict=False):
        services.ballot_cast(member=member, election=election, marks=marks)
    with close(election):
        tally = services.election_count(election_id=election.pk)
    result = json.loads(tally.result_json)
    assert result["winners"] == ["Bo"]
    assert tally.outcome["winners"] == ["Bo"]
    assert tally.ballot_count == 5
    engine = TallyElection.from_rankings(
        ["Ann", "Bo", "Cy"],
        [[0], [0, 1], [1], [1, 0], [2, 1]],
        title=election.title,
        seats=1,
    )
    expected = count(engine, method="irv", seats=1, seed=election.seed).to_dict()
    assert result == expected


@pytest.mark.parametrize(
    ("method", "marks", "winner"),
    [
        (
            "approval",
            [{"approve": ["0", "1"]}, {"approve": ["1"]}, {"approve": ["2"]}],
            "B",
        ),
        (
            "score",
            [{"score_0": "5", "score_1": "1"}, {"score_0": "0", "score_1": "3"}],
            "A",
        ),
        (
            "star",
            [
                {"score_0": "5", "score_1": "4"},
                {"score_1": "5", "score_2": "1"},
                {"score_1": "2", "score_2": "5"},
            ],
            "B",
        ),
        ("schulze", [ranks(2, 0, 1), ranks(2, 1), ranks(0, 2)], "C"),
    ],
)
def test_every_method_is_counted_by_the_engine(
    open_ballot, members, method, marks, winner
):
    election = open_ballot(method, ("A", "B", "C"))
    for member, paper in zip(members, marks, strict=False):
        services.ballot_cast(member=member, election=election, marks=paper)
    with close(election):
        tally = services.election_count(election_id=election.pk)
    assert json.loads(tally.result_json)["method"] in (
        method,
        "star",
        "approval",
        "score",
    )
    assert tally.outcome["winners"] == [winner]


def test_stv_elects_the_seats_with_the_chosen_rules(open_ballot, members):
    election = open_ballot("stv", ("A", "B", "C", "D"), seats=2, rules="wigm")
    for member, paper in zip(
        members,
        [ranks(0, 1), ranks(0, 2), ranks(0), ranks(1), ranks(2), ranks(3, 2)],
        strict=True,
    ):
        services.ballot_cast(member=member, election=election, marks=paper)
    with close(election):
        tally = services.election_count(election_id=election.pk)
    result = json.loads(tally.result_json)
    assert result["rules"] == "wigm" and result["seats"] == 2
    assert len(result["winners"]) == 2 and result["winners"][0] == "A"


@pytest.mark.parametrize(
    ("quorum", "majority", "yes", "no", "passed"),
    [
        (0, 50, 3, 2, True),
        (0, 50, 2, 2, False),
        (0, 66, 3, 2, False),
        (90, 50, 3, 2, False),
    ],
)
def test_yes_no_applies_quorum_and_majority(
    open_ballot, members, quorum, majority, yes, no, passed
):
    election = open_ballot(
        "yes_no", (), quorum_percent=quorum, majority_percent=majority
    )
    choices = ["0"] * yes + ["1"] * no
    for member, choice in zip(members, choices, strict=False):
        services.ballot_cast(member=member, election=election, marks={"choice": choice})
    with close(election):
        tally = services.election_count(election_id=election.pk)
    assert tally.outcome["yes"] == yes and tally.outcome["no"] == no
    assert tally.outcome["passed"] is passed


def test_counting_twice_gives_one_identical_result(open_ballot, members):
    election = open_ballot()
    services.ballot_cast(member=members[0], election=election, marks=ranks(1, 0))
    with close(election):
        first = services.election_count(election_id=election.pk)
        second = services.election_count(election_id=election.pk)
    assert first.pk == second.pk
    assert TallyResult.objects.filter(election=election).count() == 1
    assert AuditEntry.objects.filter(action="election.counted").count() == 1
    assert AuditEntry.objects.filter(action="election.closed").count() == 1


def test_a_count_killed_half_way_leaves_nothing_and_a_rerun_gives_the_same_result(
    open_ballot, members, monkeypatch
):
    election = open_ballot()
    for member, paper in zip(
        members, [ranks(0, 1), ranks(1), ranks(2, 0), ranks(0)], strict=False
    ):
        services.ballot_cast(member=member, election=election, marks=paper)

    def crash(*args, **kwargs):
        raise SystemExit("worker killed after writing the result row")

    with close(election):
        monkeypatch.setattr(results, "proposal_settle_outcome", crash)
        with pytest.raises(SystemExit):
            services.election_count(election_id=election.pk)
        assert TallyResult.objects.count() == 0
        assert not AuditEntry.objects.filter(action="election.counted").exists()
        monkeypatch.undo()
        rerun = services.election_count(election_id=election.pk)
        again = services.election_count(election_id=election.pk)
    engine = TallyElection.from_rankings(
        [o.label for o in Option.objects.filter(election=election)],
        [[0, 1], [1], [2, 0], [0]],
        title=election.title,
        seats=1,
    )
    expected = json.dumps(
        count(engine, method="irv", seats=1, seed=election.seed).to_dict(),
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert rerun.result_json == expected
    assert again.pk == rerun.pk and TallyResult.objects.count() == 1


def test_the_celery_task_counts_eagerly_and_is_idempotent(open_ballot, members):
    from commonground.decisions.tasks import count_election, decisions_sweep

    election = open_ballot()
    services.ballot_cast(member=members[0], election=election, marks=ranks(0))
    with close(election):
        digest = count_election.delay(election.pk).get()
        decisions_sweep.delay().get()
        assert count_election.delay(election.pk).get() == digest
    assert TallyResult.objects.get().result_sha256 == digest


def test_editing_after_opening_is_refused_and_audited(open_ballot, organiser):
    election = open_ballot()
    with pytest.raises(services.DecisionRefused, match="frozen"):
        services.election_edit(
            actor=organiser,
            election=election,
            title="X",
            description="",
            options=["P", "Q"],
        )
    assert AuditEntry.objects.filter(action="election.edit_refused").count() == 1
    assert list(
        Option.objects.filter(election=election).values_list("label", flat=True)
    ) == [
        "Ann",
        "Bo",
        "Cy",
        "Di",
    ]


def test_tampering_with_a_candidate_in_the_database_makes_the_count_refuse(
    open_ballot, members
):
    election = open_ballot()
    services.ballot_cast(member=members[0], election=election, marks=ranks(0))
    option = Option.objects.get(election=election, position=0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Option._meta.db_table} SET label = %s WHERE id = %s",
            ["Mallory", option.pk],
        )
    with (
        close(election),
        pytest.raises(services.IntegrityMismatch, match="Integrity mismatch"),
    ):
        services.election_count(election_id=election.pk)
    assert TallyResult.objects.count() == 0
    assert AuditEntry.objects.filter(action="election.count_refused").exists()


def _download(election, name: str) -> str:
    result = selectors.published_result(election)
    return views._download_body(election, result, name)


def _cli(tmp_path, filename: str, body: str, *args: str) -> dict:
    path = tmp_path / filename
    path.write_text(body, encoding="utf-8")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "commonground.cli",
            "tally",
            str(path),
            *args,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def _without_source(result: dict) -> dict:
    result = json.loads(json.dumps(result))
    result["input"].pop("file")
    result["input"].pop("format")
    return result


def test_commonground_tally_on_the_downloaded_blt_reproduces_the_published_stv_result(
    open_ballot, group, tmp_path
):
    from factories import make_member

    voters = [make_member(group) for _ in range(14)]
    names = ("Ann", 'Bo "the builder"', "Cy", "Di", "Ed")
    election = open_ballot("stv", names, seats=2)
    profile = [
        (0, 1),
        (0, 2),
        (0,),
        (1, 0),
        (1,),
        (2, 3),
        (3, 2),
        (4, 3),
        (0, 4),
        (1, 2, 3),
        (2,),
        (3,),
        (0, 1, 2),
        (4,),
    ]
    for voter, order in zip(voters, profile, strict=True):
        services.ballot_cast(member=voter, election=election, marks=ranks(*order))
    with close(election):
        tally = services.election_count(election_id=election.pk)
        blt = _download(election, "ballots.blt")
    published = json.loads(tally.result_json)
    recount = _cli(
        tmp_path,
        "ballots.blt",
        blt,
        "--method",
        "stv",
        "--seats",
        "2",
        "--rules",
        "scottish",
        "--seed",
        str(election.seed),
    )
    assert _without_source(recount) == _without_source(published)


def test_commonground_tally_on_the_downloaded_csv_reproduces_a_score_result(
    open_ballot, members, tmp_path
):
    election = open_ballot("score", ("Red", "Green", "Blue"))
    for member, paper in zip(
        members,
        [
            {"score_0": "5", "score_1": "2"},
            {"score_1": "4"},
            {"score_2": "3", "score_0": "1"},
        ],
        strict=False,
    ):
        services.ballot_cast(member=member, election=election, marks=paper)
    with close(election):
        tally = services.election_count(election_id=election.pk)
        body = _download(election, "ballots.csv")
    recount = _cli(
        tmp_path,
        "ballots.csv",
        body,
        "--method",
        "score",
        "--max-score",
        "5",
        "--seed",
        str(election.seed),
    )
    assert _without_source(recount) == _without_source(json.loads(tally.result_json))


def test_published_lists_are_trackers_and_separately_the_sorted_ballots(
    open_ballot, members
):
    election = open_ballot()
    receipts = [
        services.ballot_cast(member=member, election=election, marks=paper)
        for member, paper in zip(
            members, [ranks(2), ranks(0, 1), ranks(1)], strict=False
        )
    ]
    with close(election):
        tally = services.election_count(election_id=election.pk)
        trackers = selectors.published_trackers(tally)
        hashes = _download(election, "hashes.txt")
    assert trackers == sorted(r.tracker for r in receipts)
    lines = tally.ballots_text.splitlines()
    assert lines == sorted(lines) and len(lines) == 3
    assert all("tracker" not in line for line in lines)
    assert tally.ballots_sha256 in hashes and election.seal.definition_sha256 in hashes


def test_rctab_summary_has_rounds_tallies_and_transfers(open_ballot, members):
    election = open_ballot(options=("Ann", "Bo", "Cy"))
    for member, paper in zip(
        members,
        [ranks(0), ranks(0, 1), ranks(1), ranks(1, 0), ranks(2, 1)],
        strict=False,
    ):
        services.ballot_cast(member=member, election=election, marks=paper)
    with close(election):
        services.election_count(election_id=election.pk)
        summary = json.loads(_download(election, "summary-rctab.json"))
    assert summary["jsonFormatVersion"] == "1"
    assert summary["summary"]["totalNumBallots"] == "5"
    first = summary["results"][0]
    assert first["tally"] == {"Ann": "2", "Bo": "2", "Cy": "1"}
    assert first["tallyResults"] == [{"eliminated": "Cy", "transfers": {"Bo": "1"}}]
    assert summary["results"][-1]["tally"]["Bo"] == "3"


def test_an_election_without_ballots_chooses_nobody(open_ballot):
    election = open_ballot("stv", ("A", "B", "C"), seats=2)
    with close(election):
        tally = services.election_count(election_id=election.pk)
    assert tally.ballot_count == 0
    assert tally.outcome["winners"] == [] and tally.outcome["passed"] is False
    assert "nobody is chosen" in tally.outcome["summary"]


def test_rctab_summary_lists_an_stv_surplus_under_the_round_the_winner_was_elected(
    open_ballot, group
):
    from decimal import Decimal

    from factories import make_member

    voters = [make_member(group) for _ in range(9)]
    election = open_ballot("stv", ("A", "B", "C", "D"), seats=2)
    # 9 papers, quota floor(9/3)+1 = 4: A has 6 first preferences, surplus 2 to B/C.
    profile = [(0, 1)] * 4 + [(0, 2)] * 2 + [(1,), (2,), (3, 2)]
    for voter, order in zip(voters, profile, strict=True):
        services.ballot_cast(member=voter, election=election, marks=ranks(*order))
    with close(election):
        tally = services.election_count(election_id=election.pk)
        summary = json.loads(_download(election, "summary-rctab.json"))
    result = json.loads(tally.result_json)
    surplus_round = next(r for r in result["rounds"] if r["action"] == "surplus")
    elected_round = next(
        r
        for r in summary["results"]
        if {"elected": "A"}
        in [{"elected": t.get("elected")} for t in r["tallyResults"]]
    )
    entry = next(t for t in elected_round["tallyResults"] if t.get("elected") == "A")
    moved = sum(Decimal(v) for v in entry["transfers"].values())
    assert moved == -Decimal(surplus_round["transfers"]["A"])
    assert summary["summary"]["numWinners"] == 2


def test_commonground_tally_reproduces_a_schulze_result_with_equal_ranks(
    open_ballot, members, tmp_path
):
    election = open_ballot("schulze", ("Ann", "Bo", "Cy"))
    papers = [
        {"rank_0": "1", "rank_1": "1", "rank_2": "3"},
        {"rank_2": "1", "rank_0": "2"},
        {"rank_1": "1", "rank_2": "2", "rank_0": "3"},
        {"rank_0": "1"},
    ]
    for member, paper in zip(members, papers, strict=False):
        services.ballot_cast(member=member, election=election, marks=paper)
    with close(election):
        tally = services.election_count(election_id=election.pk)
        blt = _download(election, "ballots.blt")
    assert "1=2" in blt
    recount = _cli(
        tmp_path,
        "ballots.blt",
        blt,
        "--method",
        "schulze",
        "--seed",
        str(election.seed),
    )
    assert _without_source(recount) == _without_source(json.loads(tally.result_json))


@pytest.mark.parametrize(
    ("method", "marks", "filename", "arguments"),
    [
        (
            "yes_no",
            [{"choice": "0"}, {"choice": "1"}, {"choice": "0"}],
            "ballots.csv",
            ["--method", "plurality"],
        ),
        (
            "approval",
            [{"approve": ["0", "2"]}, {"approve": ["1"]}],
            "ballots.csv",
            ["--method", "approval"],
        ),
        (
            "star",
            [{"score_0": "5", "score_1": "3"}, {"score_2": "4", "score_1": "5"}],
            "ballots.csv",
            ["--method", "star", "--max-score", "5"],
        ),
        (
            "irv",
            [ranks(0, 1), ranks(1, 2), ranks(2), ranks(2, 0)],
            "ballots.blt",
            ["--method", "irv"],
        ),
    ],
)
def test_commonground_tally_reproduces_every_method_from_the_downloads(
    open_ballot, members, tmp_path, method, marks, filename, arguments
):
    election = open_ballot(method, () if method == "yes_no" else ("Ann", "Bo", "Cy"))
    for member, paper in zip(members, marks, strict=False):
        services.ballot_cast(member=member, election=election, marks=paper)
    with close(election):
        tally = services.election_count(election_id=election.pk)
        body = _download(election, filename)
    recount = _cli(tmp_path, filename, body, *arguments, "--seed", str(election.seed))
    assert _without_source(recount) == _without_source(json.loads(tally.result_json))
