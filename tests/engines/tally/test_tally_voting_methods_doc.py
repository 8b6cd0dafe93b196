"""The worked examples of docs/voting-methods.md, recounted by the engine."""

from __future__ import annotations

from commonground.engines.tally import Election, count

VENUES = ["Hall", "Park", "Library"]
HALL, PARK, LIBRARY = 0, 1, 2


def test_plurality_irv_and_approval_examples():
    ranked = Election.from_rankings(
        VENUES, [[HALL]] * 4 + [[PARK, LIBRARY]] * 3 + [[LIBRARY, PARK]] * 2
    )
    plurality = count(ranked, method="plurality")
    assert plurality.winners == ("Hall",)
    assert plurality.rounds[0].tallies == {"Hall": 4, "Park": 3, "Library": 2}
    irv = count(ranked, method="irv")
    assert [r.tallies for r in irv.rounds] == [
        {"Hall": 4, "Park": 3, "Library": 2},
        {"Hall": 4, "Park": 5, "Library": 0},
    ]
    assert irv.winners == ("Park",)
    approvals = Election.from_rankings(
        VENUES, [[HALL, LIBRARY]] * 4 + [[PARK, LIBRARY]] * 3 + [[LIBRARY]] * 2
    )
    approval = count(approvals, method="approval")
    assert approval.rounds[0].tallies == {"Hall": 4, "Park": 3, "Library": 9}


def test_score_and_star_examples():
    grid = Election.from_grid(VENUES, [[5, 0, 4]] * 5 + [[0, 5, 5]] * 4)
    score = count(grid, method="score")
    assert score.rounds[0].tallies == {"Hall": 25, "Park": 20, "Library": 40}
    assert score.winners == ("Library",)
    star = count(grid, method="star")
    assert (
        star.rounds[1].tallies["Hall"] == 5 and star.rounds[1].tallies["Library"] == 4
    )
    assert star.winners == ("Hall",)


def test_scottish_stv_example():
    election = Election.from_rankings(
        ["Ann", "Bo", "Cy", "Di"],
        [[0, 1]] * 5 + [[0, 2]] * 2 + [[1]] + [[2]] * 2 + [[3, 2]] * 2,
    )
    result = count(election, method="stv", seats=2).to_dict()
    assert result["quota"] == "5.00000"
    stages = result["rounds"]
    assert stages[1]["transfer_values"] == ["0.28571"]
    assert stages[1]["tallies"] == {
        "Ann": "5.00000",
        "Bo": "2.42855",
        "Cy": "2.57142",
        "Di": "2.00000",
    }
    assert stages[1]["rounding_loss"] == "0.00003"
    assert stages[2]["tallies"]["Cy"] == "4.57142"
    assert stages[3]["exhausted"] == "2.42855"
    assert result["winners"] == ["Ann", "Cy"]


def test_condorcet_example():
    election = Election.from_rankings(
        ["A", "B", "C"], [[0, 1, 2]] * 4 + [[1, 2, 0]] * 3 + [[2, 0, 1]] * 2
    )
    pairs = count(election, method="ranked-pairs")
    assert pairs.rounds[0].extra["locked"] == [["B", "C"], ["A", "B"]]
    assert pairs.winners == ("A",)
    schulze = count(election, method="schulze")
    assert schulze.rounds[0].extra["path_strengths"]["A"]["C"] == "3"
    assert schulze.rounds[0].extra["path_strengths"]["C"]["A"] == "1"
    assert schulze.winners == ("A",)
