"""Progress reports, the time limit and its certified gap (no timing assertions).

Time is faked: the engine's clock is replaced by one the test moves forward, so
"the limit passed in the middle of the work" happens at a chosen point on every
machine.
"""

from __future__ import annotations

import json

import pytest

from commonground.engines.sortition import (
    InfeasibleQuotasError,
    Lottery,
    Progress,
    Quota,
    SortitionInputError,
    SortitionTimeLimitError,
    _progress,
    check_people_panel,
    select_panel,
)
from commonground.engines.sortition._synthetic import synthetic_pool


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    fake = FakeClock()
    monkeypatch.setattr(_progress, "time", fake)
    return fake


def _pool():  # type: ignore[no-untyped-def]
    # 150 people, 15 seats, three skewed features with near-equal quotas: the
    # chances must differ, so the general route (relaxation, then panels) runs.
    people, proportional = synthetic_pool(150, 15, [3, 4, 3], slack=0.0, seed=4)
    quotas = []
    for feature in dict.fromkeys(q.feature for q in proportional):
        values = [q.value for q in proportional if q.feature == feature]
        share = 15 // len(values)
        for value in values:
            have = sum(1 for p in people if p.features[feature] == value)
            quotas.append(Quota(feature, value, min(share - 1, have), share + 2))
    return people, quotas


def test_progress_reports_each_phase_in_order_and_ends_with_done(clock):
    people, quotas = _pool()
    reports: list[Progress] = []
    select_panel(people, quotas, 15, lottery_size=20, progress=reports.append)
    phases = [report.phase for report in reports]
    assert phases[0] == "bounds" and phases[-1] == "done"
    assert "panels" in phases and "lottery" in phases
    order = ["bounds", "panels", "lottery", "done"]
    assert [order.index(p) for p in phases] == sorted(order.index(p) for p in phases)
    assert all(0.0 <= report.fraction <= 1.0 for report in reports)
    assert all(report.message for report in reports)


def test_limit_passed_mid_way_returns_best_distribution_with_its_proven_gap(clock):
    people, quotas = _pool()
    exact = select_panel(people, quotas, 15, lottery_size=20)

    def advance(report: Progress) -> None:
        if report.phase == "panels":
            clock.now += 10_000  # the limit passes while panels are being found

    result = select_panel(
        people, quotas, 15, lottery_size=20, time_limit=60, progress=advance
    )
    assert result.status == "time_limit"
    bound = result.trace["bound"]
    # the bound is the relaxed optimum, the exact minimum cannot beat it ...
    assert exact.stats.minimum <= bound + 1e-9
    # ... and the gap is measured from it, so it covers the true shortfall
    assert result.gap == pytest.approx(bound - result.stats.minimum, abs=1e-12)
    assert exact.stats.minimum - result.stats.minimum <= result.gap + 1e-9
    # still a valid distribution, and the published lottery records the gap
    assert sum(result.probabilities.values()) == pytest.approx(15)
    for panel, _ in result.distribution:
        assert check_people_panel(people, quotas, panel) == []
    assert json.loads(result.lottery.to_bytes())["gap"] == result.gap
    assert Lottery.from_bytes(result.lottery.to_bytes()).gap == result.gap
    assert result.to_json()["status"] == "time_limit"


def test_limit_passed_before_any_panel_is_a_clear_error(clock):
    people, quotas = _pool()

    def advance(report: Progress) -> None:
        clock.now += 10_000  # the limit passes at the first report

    with pytest.raises(SortitionTimeLimitError, match="time limit .*allow more time"):
        select_panel(people, quotas, 15, time_limit=5, progress=advance)


def test_optimal_result_says_so_and_its_lottery_file_has_no_gap():
    people, quotas = _pool()
    result = select_panel(people, quotas, 15, lottery_size=20, time_limit=3600)
    assert result.status == "optimal" and result.gap == 0.0
    assert "gap" not in json.loads(result.lottery.to_bytes())
    assert result.trace["bound"] == pytest.approx(result.stats.minimum, abs=1e-8)


def test_time_limit_must_be_positive():
    people, quotas = _pool()
    with pytest.raises(SortitionInputError, match="time limit"):
        select_panel(people, quotas, 15, time_limit=0)


def test_infeasible_quotas_on_a_large_pool_name_the_quota_and_the_relaxation():
    # 1,000 people in 6 features (hundreds of types); the two values of f1 ask
    # for at least 50 + 35 = 85 of the 80 seats: the message names f1 and a fix
    # lowering the minimums by 5 seats in total.
    people, _ = synthetic_pool(1000, 80, [2, 5, 6, 4, 4, 3], seed=1)
    quotas = [
        Quota("f1", "v1", 50, 60),
        Quota("f1", "v2", 35, 50),
        *[
            Quota(f"f{f}", f"v{v}", 0, 80)
            for f, size in zip(range(2, 7), [5, 6, 4, 4, 3], strict=True)
            for v in range(1, size + 1)
        ],
    ]
    with pytest.raises(InfeasibleQuotasError) as caught:
        select_panel(people, quotas, 80, time_limit=120)
    assert caught.value.conflicting_features == ("f1",)
    assert "Smallest relaxation (total change 5): f1=" in str(caught.value)
    assert sum(c.old - c.new for c in caught.value.relaxation) == 5
    assert all(c.bound == "min" for c in caught.value.relaxation)
