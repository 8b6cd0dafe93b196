"""Tally engine benchmark: our IRV and Scottish STV against pyrankvote, votekit and
pref_voting on the same generated ballots, in the same run (spec §9, issue 3 point 6).

Profiles (seeded Plackett-Luce with unequal weights):
  (a) 1,000,000 ballots, 10 candidates, ballot lengths uniform 1-5;
  (b) 1,000,000 ballots, 20 candidates, ballot lengths uniform 1-8.

Timed (wall clock, median of ``--repeats`` runs, each in a fresh worker process):
  ours  IRV on (a) from an in-memory int8 matrix padded with -1 to a ``Result``;
  ours  IRV on (a) from a simple ranked CSV file (``load_ballots`` + ``count``);
  ours  Scottish STV, 5 seats, on (b) from the in-memory matrix;
  peers pyrankvote ``instant_runoff_voting``; votekit ``FastIRV``, ``IRV``, ``STV``,
        ``FastSTV``; pref_voting ``instant_runoff`` and ``stv_scottish``; each on the
        raw ballots (one object per ballot) and, where the peer accepts weights, on the
        aggregated ballots (distinct rankings and counts, aggregated beforehand and not
        timed).  A peer's time includes building its ballot objects from Python lists
        of names (our time includes building the ``Election`` from the matrix).

Peak memory: the maximum resident set size (``ru_maxrss``) of the fresh worker that
loaded the matrix and counted it, and the tracemalloc peak of one count.

Usage: python benchmarks/bench_tally.py [--quick] [--peer-timeout 300] [--repeats 3]
       [--no-peers] [--seed 2026]
``--quick`` uses 20,000 ballots (a smoke test of the whole pipeline).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

FULL_BALLOTS = 1_000_000
QUICK_BALLOTS = 20_000
TARGETS = {
    "ours irv memory": 0.1,
    "ours irv csv": 2.0,
    "ours stv scottish": 3.0,
}
PEAK_TARGET_MB = 500
SLOW_PEER_SECONDS = 10.0  # a peer run longer than this is not repeated


# --- profiles -----------------------------------------------------------------


def candidate_names(n: int) -> list[str]:
    return [f"Candidate {i + 1:02d}" for i in range(n)]


def plackett_luce(
    ballots: int, candidates: int, max_length: int, seed: int
) -> np.ndarray:
    """Rankings drawn from a Plackett-Luce model, truncated to uniform lengths.

    Support weights fall geometrically (candidate i has weight 0.9**i), so first
    preferences are unequal and the count needs several rounds.  Sampling uses the
    Gumbel trick: sorting log-weights plus Gumbel noise gives a Plackett-Luce order.
    Returns an int8 matrix, one ballot per row, padded with -1.
    """
    rng = np.random.default_rng(seed)
    log_weights = np.log(0.9 ** np.arange(candidates))
    matrix = np.full((ballots, max_length), -1, dtype=np.int8)
    chunk = 200_000
    for start in range(0, ballots, chunk):
        stop = min(ballots, start + chunk)
        keys = log_weights + rng.gumbel(size=(stop - start, candidates))
        order = np.argsort(-keys, axis=1)[:, :max_length].astype(np.int8)
        lengths = rng.integers(1, max_length + 1, size=stop - start)
        order[np.arange(max_length)[None, :] >= lengths[:, None]] = -1
        matrix[start:stop] = order
    return matrix


def write_ranked_csv(matrix: np.ndarray, names: list[str], path: Path) -> None:
    """A simple ranked CSV (spec §6): header rank1..rankK, one name per cell."""
    lookup = np.array([*names, ""], dtype=object)  # index -1 -> ""
    cells = lookup[matrix.astype(np.int64)]
    header = ",".join(f"rank{i + 1}" for i in range(matrix.shape[1]))
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(header + "\n")
        handle.writelines(",".join(row) + "\n" for row in cells.tolist())


def aggregate(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, counts = np.unique(matrix, axis=0, return_counts=True)
    return rows, counts


def rows_to_lists(matrix: np.ndarray) -> list[list[int]]:
    return [[c for c in row if c >= 0] for row in matrix.tolist()]


# --- workers (run in a fresh process each) ---------------------------------------


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_ours(task: str, workdir: Path, repeats: int) -> dict[str, Any]:
    from commonground.engines.tally import Election, count, load_ballots

    spec = json.loads((workdir / "profiles.json").read_text())
    times: list[float] = []
    winners: list[str] = []

    def once() -> list[str]:
        if task == "irv-memory":
            matrix = np.load(workdir / "a.npy")
            start = time.perf_counter()
            election = Election.from_rankings(spec["a"]["names"], matrix)
            result = count(election, method="irv", seed=1)
        elif task == "irv-csv":
            start = time.perf_counter()
            election = load_ballots(workdir / "a.csv")
            result = count(election, method="irv", seed=1)
        elif task == "stv-scottish":
            matrix = np.load(workdir / "b.npy")
            start = time.perf_counter()
            election = Election.from_rankings(spec["b"]["names"], matrix)
            result = count(election, method="stv", rules="scottish", seats=5, seed=1)
        else:
            raise ValueError(task)
        times.append(time.perf_counter() - start)
        rounds.append(len(result.rounds))
        return list(result.winners)

    rounds: list[int] = []
    for _ in range(repeats):
        winners = once()
    rss = max_rss_mb()
    tracemalloc.start()
    once()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    times.pop()  # the traced run is slower; it only measures memory
    return {
        "times": times,
        "winners": winners,
        "rounds": rounds[0],
        "max_rss_mb": rss,
        "tracemalloc_peak_mb": traced_peak / 2**20,
    }


def worker_peer(task: str, workdir: Path, repeats: int) -> dict[str, Any]:
    spec = json.loads((workdir / "profiles.json").read_text())
    profile_key = "b" if "stv" in task else "a"
    names = spec[profile_key]["names"]
    aggregated = task.endswith("-agg")
    if aggregated:
        rows = rows_to_lists(np.load(workdir / f"{profile_key}_rows.npy"))
        weights = np.load(workdir / f"{profile_key}_counts.npy").tolist()
    else:
        rows = rows_to_lists(np.load(workdir / f"{profile_key}.npy"))
        weights = [1] * len(rows)
    ranked_names = [[names[c] for c in row] for row in rows]
    base = task.removesuffix("-agg").removesuffix("-raw")
    import_peer(base)  # imports are not timed
    times: list[float] = []
    winners: list[str] = []
    for _ in range(repeats):
        start = time.perf_counter()
        winners = run_peer(base, names, ranked_names, weights)
        times.append(time.perf_counter() - start)
        if times[-1] > SLOW_PEER_SECONDS:
            break
    return {"times": times, "winners": winners, "max_rss_mb": max_rss_mb()}


def import_peer(base: str) -> None:
    if base.startswith("pyrankvote"):
        import pyrankvote  # noqa: F401
    elif base.startswith("votekit"):
        import votekit.elections  # noqa: F401
        import votekit.pref_profile  # noqa: F401
    else:
        import pref_voting.iterative_methods  # noqa: F401
        import pref_voting.proportional_methods  # noqa: F401


def run_peer(
    base: str, names: list[str], rankings: list[list[str]], weights: list[int]
) -> list[str]:
    if base == "pyrankvote-irv":
        import pyrankvote

        people = {name: pyrankvote.Candidate(name) for name in names}
        ballots = [
            pyrankvote.Ballot(ranked_candidates=[people[n] for n in ranking])
            for ranking in rankings
        ]
        result = pyrankvote.instant_runoff_voting(list(people.values()), ballots)
        return [c.name for c in result.get_winners()]
    if base.startswith("votekit-"):
        from votekit.ballot import RankBallot
        from votekit.elections import IRV as VotekitIRV
        from votekit.elections import STV as VotekitSTV
        from votekit.elections import FastSTV
        from votekit.elections.election_types.ranking.stv.stv import FastIRV
        from votekit.pref_profile import RankProfile

        ballots = [
            RankBallot(ranking=[{n} for n in ranking], weight=weight)
            for ranking, weight in zip(rankings, weights, strict=True)
        ]
        profile = RankProfile(ballots=ballots, candidates=names)
        if base == "votekit-fastirv":
            election: Any = FastIRV(profile)
        elif base == "votekit-irv":
            election = VotekitIRV(profile)
        elif base == "votekit-stv":
            election = VotekitSTV(profile, n_seats=5)
        elif base == "votekit-faststv":
            election = FastSTV(profile, n_seats=5)
        else:
            raise ValueError(base)
        return sorted(str(c) for group in election.get_elected() for c in group)
    if base.startswith("pref_voting-"):
        from pref_voting.iterative_methods import instant_runoff
        from pref_voting.profiles_with_ties import ProfileWithTies
        from pref_voting.proportional_methods import stv_scottish

        index = {name: i for i, name in enumerate(names)}
        maps = [
            {index[n]: rank for rank, n in enumerate(ranking, start=1)}
            for ranking in rankings
        ]
        profile = ProfileWithTies(
            maps, rcounts=weights, candidates=list(range(len(names)))
        )
        if base == "pref_voting-irv":
            chosen = instant_runoff(profile)
        elif base == "pref_voting-stv":
            chosen = stv_scottish(profile, num_seats=5)
        else:
            raise ValueError(base)
        return sorted(names[c] for c in chosen)
    raise ValueError(base)


# --- orchestration ---------------------------------------------------------------


OUR_TASKS = [
    ("irv-memory", "ours irv memory", "IRV (a), in-memory matrix"),
    ("irv-csv", "ours irv csv", "IRV (a), ranked CSV file"),
    ("stv-scottish", "ours stv scottish", "Scottish STV 5 seats (b), in memory"),
]
PEER_TASKS = [
    # (task, compared with, label)
    ("pyrankvote-irv-raw", "irv-memory", "pyrankvote instant_runoff_voting, raw"),
    ("votekit-fastirv-raw", "irv-memory", "votekit FastIRV, raw"),
    ("votekit-fastirv-agg", "irv-memory", "votekit FastIRV, aggregated"),
    ("votekit-irv-raw", "irv-memory", "votekit IRV, raw"),
    ("votekit-irv-agg", "irv-memory", "votekit IRV, aggregated"),
    ("pref_voting-irv-raw", "irv-memory", "pref_voting instant_runoff, raw"),
    ("pref_voting-irv-agg", "irv-memory", "pref_voting instant_runoff, aggregated"),
    ("votekit-stv-raw", "stv-scottish", "votekit STV (Droop, fractional), raw"),
    ("votekit-stv-agg", "stv-scottish", "votekit STV (Droop, fractional), aggregated"),
    ("votekit-faststv-agg", "stv-scottish", "votekit FastSTV, aggregated"),
    ("pref_voting-stv-raw", "stv-scottish", "pref_voting stv_scottish, raw"),
    ("pref_voting-stv-agg", "stv-scottish", "pref_voting stv_scottish, aggregated"),
]


def spawn(
    kind: str, task: str, workdir: Path, repeats: int, timeout: float | None
) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        kind,
        task,
        str(workdir),
        str(repeats),
    ]
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-1:]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = [f"Python {platform.python_version()}", f"numpy {np.__version__}"]
    for package in ("pyrankvote", "votekit", "pref_voting"):
        try:
            from importlib.metadata import version

            versions.append(f"{package} {version(package)}")
        except Exception:
            versions.append(f"{package} not installed")
    return f"CPU: {model}; cores: {os.cpu_count()}; " + ", ".join(versions)


def describe(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.1f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 ballots")
    parser.add_argument("--ballots", type=int, help="override the profile size")
    parser.add_argument("--peer-timeout", type=float, default=300.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        kind, task, workdir, repeats = args.worker
        worker = worker_ours if kind == "ours" else worker_peer
        print(json.dumps(worker(task, Path(workdir), int(repeats))))
        return 0

    ballots = args.ballots or (QUICK_BALLOTS if args.quick else FULL_BALLOTS)
    print(machine())
    print(f"ballots per profile: {ballots:,}; seed {args.seed}; repeats {args.repeats}")
    failures = 0
    with tempfile.TemporaryDirectory(prefix="bench_tally_") as folder:
        workdir = Path(folder)
        spec: dict[str, Any] = {}
        for key, candidates, length in (("a", 10, 5), ("b", 20, 8)):
            start = time.perf_counter()
            matrix = plackett_luce(ballots, candidates, length, args.seed + ord(key))
            names = candidate_names(candidates)
            np.save(workdir / f"{key}.npy", matrix)
            rows, counts = aggregate(matrix)
            np.save(workdir / f"{key}_rows.npy", rows)
            np.save(workdir / f"{key}_counts.npy", counts)
            spec[key] = {"names": names, "distinct": int(rows.shape[0])}
            if key == "a":
                write_ranked_csv(matrix, names, workdir / "a.csv")
            print(
                f"profile ({key}): {candidates} candidates, lengths 1-{length}, "
                f"{rows.shape[0]:,} distinct rankings "
                f"(generated in {time.perf_counter() - start:.1f} s)"
            )
        csv_size = (workdir / "a.csv").stat().st_size / 2**20
        print(f"ranked CSV of (a): {csv_size:.1f} MiB")
        (workdir / "profiles.json").write_text(json.dumps(spec))

        ours: dict[str, dict[str, Any]] = {}
        print("\nOur engine (median of runs; peak = max RSS of the worker process)")
        for task, target_key, label in OUR_TASKS:
            outcome = spawn("ours", task, workdir, args.repeats, None)
            ours[task] = outcome
            if "times" not in outcome:
                print(f"  {label}: FAILED {outcome}")
                failures += 1
                continue
            median = statistics.median(outcome["times"])
            target = TARGETS[target_key]
            reached = "reached" if median <= target else "NOT reached"
            peak = outcome["max_rss_mb"]
            print(
                f"  {label}: {describe(median)} "
                f"(runs {', '.join(f'{t:.3f}' for t in outcome['times'])}; "
                f"target <= {target} s: {reached}); peak RSS {peak:.0f} MB "
                f"(target <= {PEAK_TARGET_MB} MB: "
                f"{'reached' if peak <= PEAK_TARGET_MB else 'NOT reached'}); "
                f"tracemalloc peak {outcome['tracemalloc_peak_mb']:.0f} MB; "
                f"{outcome['rounds']} rounds; winners {outcome['winners']}"
            )

        if not args.no_peers:
            print(
                f"\nPeers (timeout {args.peer_timeout:.0f} s each; ratio = peer/ours)"
            )
            for task, against, label in PEER_TASKS:
                outcome = spawn("peer", task, workdir, args.repeats, args.peer_timeout)
                reference = ours.get(against, {})
                if "timeout" in outcome:
                    print(f"  {label}: TIMEOUT after {args.peer_timeout:.0f} s")
                    continue
                if "times" not in outcome:
                    print(f"  {label}: error {outcome.get('error')}")
                    continue
                median = statistics.median(outcome["times"])
                ratio = ""
                if "times" in reference:
                    ratio = f"; ratio {median / statistics.median(reference['times']):,.0f}x"
                same = sorted(outcome["winners"]) == sorted(
                    reference.get("winners", [])
                )
                print(
                    f"  {label}: {describe(median)} "
                    f"({len(outcome['times'])} run(s)){ratio}; "
                    f"peak RSS {outcome['max_rss_mb']:.0f} MB; winners "
                    f"{outcome['winners']} "
                    f"({'same as ours' if same else 'DIFFERENT from ours'})"
                )
                if not same and against == "irv-memory":
                    failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
