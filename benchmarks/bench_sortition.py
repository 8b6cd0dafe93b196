"""Sortition benchmark: our LEXIMIN and MAXIMIN against sortition-algorithms' MAXIMIN.

Same instances, same run. Targets (issue 4, 2-core machine):
  example_large_200 (n = 2,000, k = 200): LEXIMIN <= 1 s
  generated pool (n = 2,000, k = 100, six features with 3-6 values, quotas
  within +-10% of proportional): LEXIMIN <= 60 s

    .venv/bin/python benchmarks/bench_sortition.py [--peer-timeout 600] [--only NAME]

The peer runs in a child process with a time limit, so a slow peer cannot hang
the benchmark. "engine" times the whole ``select_panel`` call (solver, mapping
to people, distribution over people and the 1,000-panel lottery).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data" / "sortition" / "data"
GENERATED = {"pool_size": 2000, "panel_size": 100, "values": [3, 4, 5, 6, 4, 5]}
#: a harder pool: near-equal quotas on skewed shares, so chances must differ and
#: the general column generation does the work (no uniform design exists)
SKEWED = {"pool_size": 400, "panel_size": 40, "values": [3, 4, 5, 6, 4]}


def _instance(name: str):  # type: ignore[no-untyped-def]
    from commonground.engines.sortition import read_people, read_quotas
    from commonground.engines.sortition._synthetic import synthetic_pool

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


def _ours(name: str, algorithm: str) -> dict[str, float]:
    from commonground.engines.sortition import select_panel

    people, quotas, k = _instance(name)
    start, cpu = time.perf_counter(), time.process_time()
    result = select_panel(people, quotas, k, algorithm=algorithm, seed=0)
    elapsed = time.perf_counter() - start
    return {
        "seconds": elapsed,
        "cpu": time.process_time() - cpu,
        "minimum": result.stats.minimum,
        "gini": result.stats.gini,
        "types": result.trace.get("types", 0),
        "panels": len(result.distribution),
    }


def _peer(name: str) -> dict[str, float]:
    logging.disable(logging.CRITICAL)
    from sortition_algorithms import Settings, read_in_features, read_in_people
    from sortition_algorithms.committee_generation import find_distribution_maximin

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
    committees, probabilities, _ = find_distribution_maximin(features, pool, k, [])
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    chance = {p.id: 0.0 for p in people}
    for committee, probability in zip(committees, probabilities, strict=True):
        for pid in committee:
            chance[pid] += probability
    return {"seconds": elapsed, "cpu": cpu, "minimum": min(chance.values())}


def _peer_in_child(name: str, timeout: float) -> dict[str, float] | None:
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--peer-child", name],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer-timeout", type=float, default=600.0)
    parser.add_argument("--only")
    parser.add_argument("--peer-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer_child:
        print(json.dumps(_peer(args.peer_child)))
        return 0
    targets = {"example_large_200": 1.0, "generated_2000_100": 60.0}
    names = [
        "example_small_20",
        "example_large_200",
        "generated_2000_100",
        "skewed_400_40",
    ]
    if args.only:
        names = [args.only]
    print(
        "times are wall-clock seconds (CPU seconds in brackets)\n"
        f"{'instance':<20} {'types':>6} {'leximin s':>16} {'maximin s':>16} "
        f"{'peer maximin s':>18} {'peer/leximin':>13} {'min ours':>10} {'min peer':>10} target"
    )
    failures = 0
    for name in names:
        leximin = _ours(name, "leximin")
        maximin = _ours(name, "maximin")
        peer = _peer_in_child(name, args.peer_timeout)
        peer_time = (
            f"{peer['seconds']:.2f} ({peer['cpu']:.2f})"
            if peer
            else f">{args.peer_timeout:.0f}"
        )
        ratio = (
            f"{peer['seconds'] / leximin['seconds']:.1f}x"
            if peer
            else f">{args.peer_timeout / leximin['seconds']:.1f}x"
        )
        peer_min = f"{peer['minimum']:.6f}" if peer else "-"
        target = targets.get(name)
        verdict = ""
        if target is not None:
            met = leximin["seconds"] <= target
            failures += not met
            verdict = f"<= {target:.0f} s: {'met' if met else 'MISSED'}"
        print(
            f"{name:<20} {leximin['types']:>6.0f} "
            f"{leximin['seconds']:>8.2f} ({leximin['cpu']:>5.2f}) "
            f"{maximin['seconds']:>8.2f} ({maximin['cpu']:>5.2f}) {peer_time:>18} {ratio:>13} "
            f"{leximin['minimum']:>10.6f} {peer_min:>10} {verdict}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
