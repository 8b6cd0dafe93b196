"""Opinion engine benchmark (spec opinion.md §9): improved mode vs red-dwarf 0.4.0.

1. A real Pol.is export (default: american-assembly.bowling-green from
   ../shared/data/polis/benchmark/; ``--data DIR`` for any other export folder):
   CSV load, improved ``fit`` from the in-memory tables, polis ``fit``, and
   red-dwarf's ``run_pipeline`` on the same votes in the same process.
2. Synthetic, seeded: 1,000,000 participants x 10,000 statements x 50,000,000
   votes, improved ``fit`` time and peak RSS, in a fresh child process
   (generation and input arrays included in the peak).
3. Incremental: 100,000 participants x 1,000 statements (5 M votes), then
   1,000 new votes (half from 100 new participants, half changed votes):
   ``partial_fit`` time, checked against a full fit on all votes.

Times are the median of 5 runs after one warm-up, single-threaded BLAS.

    .venv/bin/python benchmarks/bench_opinion.py [--data DIR] [--quick] [--skip-large]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import copy  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402

from commonground.engines.opinion import OpinionMap, VoteTable  # noqa: E402

HERE = Path(__file__).resolve().parent
BOWLING_GREEN = (
    HERE.parent / ".." / "shared" / "data" / "polis" / "benchmark"
).resolve() / "american-assembly.bowling-green"
GROUP_SHARES = (0.30, 0.25, 0.20, 0.12, 0.08, 0.05)
PASS_SHARE = 0.15


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(
    function: Callable[..., Any],
    runs: int,
    warmup: int = 1,
    setup: Callable[[], Any] | None = None,
) -> tuple[float, Any]:
    """Median wall time of ``runs`` calls after ``warmup`` calls; last value.

    ``setup`` (untimed) makes a fresh argument for each call.  The median CPU
    time of the process is kept in ``LAST_CPU`` (the machine is shared: wall
    time includes waiting for a core).
    """
    global LAST_CPU
    value = None
    walls = []
    cpus = []
    for i in range(warmup + runs):
        argument = setup() if setup is not None else None
        start = time.perf_counter()
        cpu = time.process_time()
        value = function(argument) if setup is not None else function()
        if i >= warmup:
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
    LAST_CPU = statistics.median(cpus) if cpus else 0.0
    return statistics.median(walls), value


LAST_CPU = 0.0


def synthetic_votes(
    participants: int, statements: int, per_participant: int = 50, seed: int = 0
) -> VoteTable:
    """Seeded conversation of spec §9.2 as int32/int32/int8 arrays.

    Each participant votes on ``per_participant`` distinct statements drawn
    with popularity proportional to 1/(rank + 10); six latent groups (30, 25,
    20, 12, 8, 5 %) with per-(group, statement) agree probability ~ Beta(2, 2);
    15 % passes.  Rows are participant-major.
    """
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 9])))
    weights = 1.0 / (np.arange(statements) + 10.0)
    cumulative = np.cumsum(weights / weights.sum())
    cumulative[-1] = 1.0
    per = min(per_participant, statements)

    def draw(count: int) -> np.ndarray:
        return np.searchsorted(cumulative, rng.random(count), side="right").astype(
            np.int32
        )

    chosen = draw(participants * per).reshape(participants, per)
    chosen.sort(axis=1)
    while True:
        duplicate = np.zeros(chosen.shape, dtype=bool)
        duplicate[:, 1:] = chosen[:, 1:] == chosen[:, :-1]
        rows = np.flatnonzero(duplicate.any(axis=1))
        if len(rows) == 0:
            break
        block = chosen[rows]
        mask = duplicate[rows]
        block[mask] = draw(int(mask.sum()))
        block.sort(axis=1)
        chosen[rows] = block
    del duplicate
    group = rng.choice(len(GROUP_SHARES), size=participants, p=GROUP_SHARES).astype(
        np.int8
    )
    agree_probability = rng.beta(2.0, 2.0, size=(len(GROUP_SHARES), statements))
    statement = chosen.reshape(-1)
    participant = np.repeat(np.arange(participants, dtype=np.int32), per)
    vote = np.empty(len(statement), dtype=np.int8)
    step = 1 << 22
    for start in range(0, len(statement), step):
        stop = min(start + step, len(statement))
        uniform = rng.random(stop - start, dtype=np.float32)
        threshold = agree_probability[
            group[participant[start:stop]], statement[start:stop]
        ]
        chunk = np.where((uniform - PASS_SHARE) / (1 - PASS_SHARE) < threshold, 1, -1)
        chunk[uniform < PASS_SHARE] = 0
        vote[start:stop] = chunk
    return VoteTable(
        participant_ids=tuple(map(str, range(participants))),
        statement_ids=tuple(map(str, range(statements))),
        participant=participant,
        statement=statement,
        vote=vote,
        timestamp=None,
        source="synthetic",
        line=None,
        path="<synthetic>",
    )


def new_votes(votes: VoteTable, count: int, seed: int = 1) -> VoteTable:
    """Half the votes from count/10 new participants, half changed old votes."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 10])))
    n_statements = len(votes.statement_ids)
    n_participants = len(votes.participant_ids)
    fresh = count // 2
    newcomers = max(fresh // 5, 1)
    weights = 1.0 / (np.arange(n_statements) + 10.0)
    weights /= weights.sum()
    records: list[tuple[str, str, int, None]] = []
    for i in range(newcomers):
        picks = rng.choice(
            n_statements, size=fresh // newcomers, replace=False, p=weights
        )
        for s in picks.tolist():
            records.append(
                (
                    str(n_participants + i),
                    votes.statement_ids[s],
                    int(rng.integers(-1, 2)),
                    None,
                )
            )
    rows = rng.choice(len(votes), size=count - len(records), replace=False)
    for r in rows.tolist():
        changed = (int(votes.vote[r]) + 2) % 3 - 1
        records.append(
            (
                votes.participant_ids[votes.participant[r]],
                votes.statement_ids[votes.statement[r]],
                changed,
                None,
            )
        )
    return VoteTable.from_records(records, source="synthetic", path="<batch>")


def show(label: str, wall: float, note: str = "") -> None:
    """One timing line: wall (median) and CPU (median) seconds."""
    print(f"  {label:<34}{wall:8.3f} s wall, {LAST_CPU:7.3f} s CPU   {note}".rstrip())


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


# --- 1. a real Pol.is export -----------------------------------------------------


def bench_export(folder: Path, runs: int) -> dict[str, Any]:
    from commonground.engines import opinion

    reader = getattr(opinion, "read_polis_export", None)
    if reader is None:
        print("  read_polis_export is not available yet: skipped")
        return {}
    start = time.perf_counter()
    votes, statements = reader(str(folder))
    load = time.perf_counter() - start
    print(f"  data: {folder}")
    print(
        f"  rows {len(votes):,}  participants {len(votes.participant_ids):,}  "
        f"statements {len(votes.statement_ids):,}"
    )
    print(f"  CSV load (read_polis_export)        {load:8.3f} s")

    improved, fitted = timed(
        lambda: OpinionMap(mode="improved", seed=0).fit(votes, statements), runs
    )
    show("improved fit", improved, f"(target <= 0.2 s)   k={fitted.k_}")
    figures: dict[str, Any] = {"load": load, "improved": improved, "cpu": LAST_CPU}
    try:
        polis, polis_map = timed(
            lambda: OpinionMap(mode="polis", seed=0).fit(votes, statements), runs
        )
        show("polis fit", polis, f"k={polis_map.k_}")
        figures["polis"] = polis
    except (NotImplementedError, ImportError, AttributeError) as error:
        print(f"  polis fit: not available ({error})")
    figures.update(bench_red_dwarf(votes, statements, runs, improved))
    return figures


def bench_red_dwarf(
    votes: VoteTable, statements: Any, runs: int, ours: float
) -> dict[str, Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from reddwarf.implementations.polis import run_pipeline
    except ImportError:
        print("  red-dwarf not installed (pip install -e '.[bench]'): skipped")
        return {}

    def as_int(text: str) -> int | str:
        return int(text) if text.isdecimal() else text

    stamps = votes.timestamp
    records = [
        {
            "participant_id": as_int(votes.participant_ids[p]),
            "statement_id": as_int(votes.statement_ids[s]),
            "vote": int(v),
            "modified": int(stamps[i]) if stamps is not None else i,
        }
        for i, (p, s, v) in enumerate(
            zip(
                votes.participant.tolist(),
                votes.statement.tolist(),
                votes.vote.tolist(),
                strict=True,
            )
        )
    ]
    moderated = []
    if statements is not None:
        moderated = [as_int(s) for s in sorted(statements.moderated_out_ids())]

    def pipeline() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return run_pipeline(
                votes=records, mod_out_statement_ids=moderated, random_state=0
            )

    seconds, _ = timed(pipeline, runs)
    show("red-dwarf 0.4.0 run_pipeline", seconds)
    print(f"  ratio red-dwarf / improved          {seconds / ours:8.1f} x (wall)")
    return {"red_dwarf": seconds, "ratio": seconds / ours}


# --- 2. synthetic, large, fresh process -----------------------------------------


def child_large(participants: int, statements: int, runs: int) -> None:
    start = time.perf_counter()
    votes = synthetic_votes(participants, statements)
    generated = time.perf_counter() - start
    after_generation = peak_rss_gb()
    times = []
    k = None
    cpus = []
    for i in range(runs + 1):
        start = time.perf_counter()
        cpu = time.process_time()
        fitted = OpinionMap(mode="improved", seed=0).fit(votes)
        elapsed = time.perf_counter() - start
        cpus.append(time.process_time() - cpu)
        k = fitted.k_
        del fitted
        if i or runs == 0:
            times.append(elapsed)
        if i == 0:
            first = elapsed
    print(
        json.dumps(
            {
                "votes": len(votes),
                "generate": generated,
                "first_fit": first,
                "fit": statistics.median(times),
                "cpu": statistics.median(cpus[1:] or cpus),
                "k": k,
                "rss_generation": after_generation,
                "rss_peak": peak_rss_gb(),
            }
        )
    )


def bench_large(participants: int, statements: int, runs: int) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child-large",
        f"{participants},{statements},{runs}",
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    figures: dict[str, Any] = json.loads(output.stdout.strip().splitlines()[-1])
    print(
        f"  {participants:,} participants x {statements:,} statements x "
        f"{figures['votes']:,} votes (generated in {figures['generate']:.1f} s)"
    )
    print(f"  improved fit (first, cold)          {figures['first_fit']:8.2f} s")
    print(
        f"  improved fit (median of {runs})          {figures['fit']:8.2f} s wall, "
        f"{figures['cpu']:.2f} s CPU   "
        f"(target <= 60 s)   k={figures['k']}"
    )
    print(
        f"  peak RSS of the fresh process       {figures['rss_peak']:8.2f} GB  "
        f"(target <= 4 GB; {figures['rss_generation']:.2f} GB after generation)"
    )
    return figures


# --- 3. incremental ------------------------------------------------------------


def bench_incremental(
    participants: int, statements: int, batch: int, runs: int
) -> dict[str, Any]:
    votes = synthetic_votes(participants, statements)
    extra = new_votes(votes, batch)
    fitted = OpinionMap(mode="improved", seed=0).fit(votes)
    seconds, updated = timed(
        lambda model: model.partial_fit(extra),
        runs,
        setup=lambda: copy.deepcopy(fitted),
    )
    print(
        f"  {participants:,} participants x {statements:,} statements x {len(votes):,} "
        f"votes, then {len(extra):,} new votes"
    )
    show("improved partial_fit", seconds, "(target <= 1 s)")
    from commonground.engines.opinion._data import concat_votes

    full_seconds, full = timed(
        lambda: OpinionMap(mode="improved", seed=0).fit(concat_votes(votes, extra)),
        1,
        0,
    )
    print(f"  improved full fit on all votes      {full_seconds:8.3f} s")
    same = (
        updated.k_ == full.k_
        and np.array_equal(updated.labels_, full.labels_)
        and updated.participant_ids_ == full.participant_ids_
    )
    drift = float(np.abs(updated.embedding_ - full.embedding_).max())
    print(
        f"  partial_fit == fit: k, labels, ids {same}; max coordinate difference {drift:.1e}"
    )
    figures: dict[str, Any] = {
        "partial_fit": seconds,
        "full_fit": full_seconds,
        "same": same,
    }
    try:
        # The polis fit of 5 M votes is slow (base k-means with 100 clusters);
        # the tick after it is timed once, without a warm-up.
        start = time.perf_counter()
        polis = OpinionMap(mode="polis", seed=0).fit(votes)
        print(
            f"  polis fit (once)                   {time.perf_counter() - start:8.3f} s wall"
        )
        tick, _ = timed(
            lambda model: model.partial_fit(extra),
            1,
            warmup=0,
            setup=lambda: copy.deepcopy(polis),
        )
        show("polis partial_fit (one tick, once)", tick)
        figures["polis_tick"] = tick
    except (NotImplementedError, ImportError, AttributeError) as error:
        print(f"  polis partial_fit: not available ({error})")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=BOWLING_GREEN,
        help="a Pol.is export folder (default: bowling-green)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, smoke run")
    parser.add_argument(
        "--skip-large", action="store_true", help="skip the 50,000,000-vote case"
    )
    parser.add_argument(
        "--large-runs",
        type=int,
        default=5,
        help="timed fits of the large case after its warm-up (default 5)",
    )
    parser.add_argument("--child-large", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_large:
        participants, statements, runs = (int(x) for x in args.child_large.split(","))
        child_large(participants, statements, runs)
        return 0

    runs = 2 if args.quick else 5
    print(
        f"CPU {cpu_name()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}; "
        f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}"
    )
    print(f"times: median of {runs} runs after one warm-up\n")
    print("1. Pol.is export")
    if args.data.exists():
        bench_export(args.data, runs)
    else:
        print(f"  {args.data} not found: skipped")
    print("\n2. Synthetic conversation, fresh process")
    if args.skip_large:
        print("  skipped (--skip-large)")
    elif args.quick:
        bench_large(20_000, 1_000, runs)
    else:
        bench_large(1_000_000, 10_000, args.large_runs)
    print("\n3. Incremental update")
    if args.quick:
        bench_incremental(10_000, 500, 1_000, runs)
    else:
        bench_incremental(100_000, 1_000, 1_000, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
