"""Sortition benchmark: our LEXIMIN against sortition-algorithms' MAXIMIN and LEXIMIN.

Same instances, same run, same machine. Targets (issue 18, 2-core machine), on
the seeded hard pools of ``sortition_pools`` (six features, skewed pool against
census quotas, tight and loose):
  hard_1000_80_*:  LEXIMIN <= 30 s
  hard_5000_100_*: LEXIMIN <= 60 s
  every hard shape: at least 5x faster than the peer's MAXIMIN
and (issue 4) example_large_200 <= 1 s, generated_2000_100 <= 60 s.

    .venv/bin/python benchmarks/bench_sortition.py [--peer-timeout 200] [--only NAME ...]

Each peer run is a child process with a time limit, so a slow peer cannot hang
the benchmark; a peer that times out shows as "> limit" and the ratio as a lower
bound. The peer's LEXIMIN needs Gurobi (``gurobipy``); without it, or when the
model outgrows the pip package's size-limited licence, the column says why.
"engine" times the whole ``select_panel`` call (solver, mapping to people, the
distribution over people and the 1,000-panel lottery). Our MAXIMIN is the same
computation as our LEXIMIN (the LEXIMIN distribution maximises the minimum too),
so it is not timed separately.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
SHARED = HERE.parent.parent / "shared" / "data" / "sortition" / "data"
GENERATED = {"pool_size": 2000, "panel_size": 100, "values": [3, 4, 5, 6, 4, 5]}
#: near-equal quotas on skewed shares (the previous benchmark's hard pool)
SKEWED = {"pool_size": 400, "panel_size": 40, "values": [3, 4, 5, 6, 4]}
TARGETS = {
    "example_large_200": 1.0,
    "generated_2000_100": 60.0,
    "hard_1000_80_tight": 30.0,
    "hard_1000_80_loose": 30.0,
    "hard_5000_100_tight": 60.0,
    "hard_5000_100_loose": 60.0,
}
#: ours must be at least this many times faster than the peer's MAXIMIN here
PEER_FACTOR = 5.0


def _instance(name: str):  # type: ignore[no-untyped-def]
    from sortition_pools import SHAPES, shape

    from commonground.engines.sortition import read_people, read_quotas
    from commonground.engines.sortition._synthetic import synthetic_pool

    if name in SHAPES:
        return shape(name)
    if name == "skewed_400_40":
        people, proportional = synthetic_pool(
            SKEWED["pool_size"],
            SKEWED["panel_size"],
            SKEWED["values"],
            slack=0.0,
            seed=0,
        )
        return (
            people,
            _near_equal(people, proportional, SKEWED["panel_size"]),
            SKEWED["panel_size"],
        )
    if name == "generated_2000_100":
        people, quotas = synthetic_pool(
            GENERATED["pool_size"], GENERATED["panel_size"], GENERATED["values"], seed=0
        )
        return people, quotas, GENERATED["panel_size"]
    folder = SHARED / name
    quotas = read_quotas(folder / "categories.csv")
    people = read_people(folder / "respondents.csv", quotas)
    return people, quotas, int(name.rsplit("_", 1)[1])


def _near_equal(people, quotas, k):  # type: ignore[no-untyped-def]
    """Quotas asking for about k / (number of values) people of every value."""
    from commonground.engines.sortition import Quota

    result = []
    for feature in dict.fromkeys(q.feature for q in quotas):
        values = [q.value for q in quotas if q.feature == feature]
        share = k // len(values)
        for value in values:
            have = sum(1 for p in people if p.features[feature] == value)
            result.append(
                Quota(feature, value, max(min(share - 1, have), 0), share + 2)
            )
    return result


def _ours(name: str) -> dict[str, float]:
    from commonground.engines.sortition import select_panel

    people, quotas, k = _instance(name)
    start, cpu = time.perf_counter(), time.process_time()
    result = select_panel(people, quotas, k, algorithm="leximin", seed=0)
    elapsed = time.perf_counter() - start
    trace = result.trace
    return {
        "seconds": elapsed,
        "cpu": time.process_time() - cpu,
        "minimum": result.stats.minimum,
        "types": trace.get("types", 0),
        "cuts": trace.get("cuts", 0),
        "integer_programs": trace.get("integer_programs", 0),
        "panels": len(result.distribution),
    }


def _peer(name: str, algorithm: str) -> dict[str, float | str]:
    logging.disable(logging.CRITICAL)
    from sortition_algorithms import Settings, read_in_features, read_in_people

    if algorithm == "leximin":
        try:
            import gurobipy  # noqa: F401
        except ImportError:
            return {"error": "needs Gurobi"}
        from sortition_algorithms.committee_generation.leximin import (
            find_distribution_leximin as find,
        )
    else:
        from sortition_algorithms.committee_generation import (
            find_distribution_maximin as find,
        )

    people, quotas, k = _instance(name)
    head = ["feature", "value", "min", "max"]
    body = [
        {
            "feature": q.feature,
            "value": q.value,
            "min": str(q.minimum),
            "max": str(q.maximum),
        }
        for q in quotas
    ]
    features, _, _ = read_in_features(head, body, k)
    names = list(dict.fromkeys(q.feature for q in quotas))
    pool, _ = read_in_people(
        ["id", *names],
        [{"id": p.id, **p.features} for p in people],
        features,
        Settings(id_column="id", columns_to_keep=[]),
    )
    start, cpu = time.perf_counter(), time.process_time()
    try:
        committees, probabilities, _ = find(features, pool, k, [])
    except Exception as error:  # the peer's own failure, reported in the table
        text = str(error)
        return {"error": "licence size limit" if "size-limited" in text else text[:40]}
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    chance = {p.id: 0.0 for p in people}
    for committee, probability in zip(committees, probabilities, strict=True):
        for pid in committee:
            chance[pid] += probability
    return {"seconds": elapsed, "cpu": cpu, "minimum": min(chance.values())}


def _peer_in_child(
    name: str, algorithm: str, timeout: float
) -> dict[str, float | str] | None:
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--peer-child", name, algorithm],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:40]}
    result: dict[str, float | str] = json.loads(lines[-1])
    return result


def _peer_cell(peer: dict[str, float | str] | None, timeout: float) -> str:
    if peer is None:
        return f"> {timeout:.0f}"
    if "error" in peer:
        return str(peer["error"])
    return f"{float(peer['seconds']):.1f} ({float(peer['cpu']):.1f})"


def main() -> int:
    from sortition_pools import SHAPES

    parser = argparse.ArgumentParser()
    parser.add_argument("--peer-timeout", type=float, default=200.0)
    parser.add_argument("--only", nargs="+")
    parser.add_argument("--peer-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer_child:
        print(json.dumps(_peer(*args.peer_child)))
        return 0
    names = [
        "example_small_20",
        "example_large_200",
        "generated_2000_100",
        "skewed_400_40",
        *SHAPES,
    ]
    if args.only:
        names = args.only
    print(
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start; "
        "times are wall-clock seconds (CPU seconds in brackets)",
        flush=True,
    )
    print(
        f"{'instance':<20} {'types':>5} {'our LEXIMIN s':>15} {'peer MAXIMIN s':>15} "
        f"{'peer LEXIMIN s':>19} {'MAXIMIN/ours':>12} {'min ours':>9} "
        f"{'min peer':>9} {'load':>5} target",
        flush=True,
    )
    missed = 0
    for name in names:
        ours = _ours(name)
        peer_maximin = _peer_in_child(name, "maximin", args.peer_timeout)
        peer_leximin = _peer_in_child(name, "leximin", args.peer_timeout)
        if peer_maximin is None:
            ratio_value = args.peer_timeout / ours["seconds"]
            ratio = f"> {ratio_value:.0f}x"
        elif "error" in peer_maximin:
            ratio_value, ratio = float("inf"), "-"
        else:
            ratio_value = float(peer_maximin["seconds"]) / ours["seconds"]
            ratio = f"{ratio_value:.1f}x"
        peer_min = (
            f"{float(peer_maximin['minimum']):.6f}"
            if peer_maximin and "minimum" in peer_maximin
            else "-"
        )
        verdicts = []
        target = TARGETS.get(name)
        if target is not None:
            met = ours["seconds"] <= target
            missed += not met
            verdicts.append(f"<= {target:.0f} s: {'met' if met else 'MISSED'}")
        if name in SHAPES:
            met = ratio_value >= PEER_FACTOR
            missed += not met
            verdicts.append(f">= {PEER_FACTOR:.0f}x: {'met' if met else 'MISSED'}")
        our_cell = f"{ours['seconds']:.2f} ({ours['cpu']:.2f})"
        print(
            f"{name:<20} {ours['types']:>5.0f} {our_cell:>15} "
            f"{_peer_cell(peer_maximin, args.peer_timeout):>15} "
            f"{_peer_cell(peer_leximin, args.peer_timeout):>19} {ratio:>12} "
            f"{ours['minimum']:>9.6f} {peer_min:>9} {os.getloadavg()[0]:>5.1f} "
            f"{'; '.join(verdicts)}",
            flush=True,
        )
    print(f"targets missed: {missed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
