"""Long fuzzing run of the tally readers (issue 3 point 4; not part of the test suite).

For each reader (BLT, simple CSV, NIST CDF JSON, ES&S xlsx, PrefLib, and RCTab
configurations run through ``tabulate_rctab``) ``--inputs`` generated inputs (default
100,000) are loaded; each must load (and then count) or be refused with
``TallyInputError`` (any ``TallyError`` for an RCTab configuration).  Any other exception is a crash: it is counted,
its input is saved under ``--crash-dir`` and the run goes on.

Engines:
  hypothesis  the strategies of tests/engines/tally/test_fuzz_tally_readers.py
              (format-shaped inputs with random corruption, plus raw bytes);
  atheris     coverage-guided libFuzzer mutation of raw bytes, seeded with inputs the
              hypothesis strategies produce (needs ``pip install atheris``, in the
              ``bench`` extra); each reader runs in its own child process, one after
              another.

Usage: python scripts/fuzz_tally.py [--inputs 100000] [--engine both]
       [--readers blt,csv,cdf-json,ess-xlsx,preflib,rctab-config] [--seed 2026]
       [--crash-dir DIR]  (default: fuzz_tally_crashes in the temporary folder)
Exit status 1 if any crash was found.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
STRATEGIES = REPOSITORY / "tests" / "engines" / "tally" / "test_fuzz_tally_readers.py"
READER_NAMES = ["blt", "csv", "cdf-json", "ess-xlsx", "preflib", "rctab-config"]


def strategies() -> ModuleType:
    """The test module holding the input strategies and ``load_or_reject``."""
    spec = importlib.util.spec_from_file_location("tally_fuzz_strategies", STRATEGIES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class Outcomes:
    """Counts per outcome; saves the first crashing inputs."""

    def __init__(self, reader: str, crash_dir: Path) -> None:
        self.reader = reader
        self.crash_dir = crash_dir
        self.counts: Counter[str] = Counter()
        self.crash_kinds: Counter[str] = Counter()

    def record(self, module: ModuleType, data: bytes, folder: Path) -> None:
        try:
            self.counts[module.load_or_reject(data, self.reader, folder)] += 1
        except Exception as error:  # a crash: anything but a clean refusal
            self.counts["crash"] += 1
            frame = traceback.extract_tb(error.__traceback__)[-1]
            kind = (
                f"{type(error).__name__} at {Path(frame.filename).name}:{frame.lineno}"
            )
            self.crash_kinds[kind] += 1
            if self.crash_kinds[kind] <= 3:
                self.crash_dir.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256(data).hexdigest()[:12]
                suffix = module.READERS[self.reader][0]
                (self.crash_dir / f"{self.reader}-{digest}{suffix}").write_bytes(data)
                (self.crash_dir / f"{self.reader}-{digest}.txt").write_text(
                    "".join(traceback.format_exception(error))
                )

    def summary(self) -> dict[str, Any]:
        return {
            "reader": self.reader,
            "inputs": sum(self.counts.values()),
            **dict(self.counts),
            "crash_kinds": dict(self.crash_kinds),
        }


# --- hypothesis ------------------------------------------------------------------------


def run_hypothesis(
    reader: str, inputs: int, seed: int, crash_dir: Path
) -> dict[str, Any]:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    module = strategies()
    outcomes = Outcomes(reader, crash_dir)
    strategy = st.one_of(module.READERS[reader][1], st.binary(max_size=256))
    with tempfile.TemporaryDirectory(prefix="fuzz_tally_") as folder:
        round_seed = seed
        while sum(outcomes.counts.values()) < inputs:
            missing = inputs - sum(outcomes.counts.values())

            @hypothesis_seed(round_seed)
            @settings(
                max_examples=missing,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(data=strategy)
            def fuzz(data: bytes) -> None:
                outcomes.record(module, data, Path(folder))

            fuzz()
            round_seed += 1
    return outcomes.summary()


# --- atheris ----------------------------------------------------------------------------


def atheris_child(
    reader: str, inputs: int, stats: Path, corpus: Path, crash_dir: Path
) -> None:
    import atheris

    with atheris.instrument_imports():  # coverage feedback from our readers
        import commonground.engines.tally  # noqa: F401
        import commonground.engines.tally.rctab  # noqa: F401
    module = strategies()
    outcomes = Outcomes(reader, crash_dir)
    folder = Path(tempfile.mkdtemp(prefix="fuzz_tally_atheris_"))

    def write_stats() -> None:
        stats.write_text(json.dumps(outcomes.summary()))

    def one_input(data: bytes) -> None:
        outcomes.record(module, data, folder)
        done = sum(outcomes.counts.values())
        if done % 1000 == 0 or done >= inputs:
            write_stats()

    atheris.Setup(
        [sys.argv[0], f"-runs={inputs}", "-max_len=4096", "-seed=1", str(corpus)],
        one_input,
    )
    atheris.Fuzz()


def seed_corpus(reader: str, corpus: Path, seed: int) -> None:
    """A few hundred inputs from the hypothesis strategy, to start libFuzzer."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    module = strategies()
    corpus.mkdir(parents=True, exist_ok=True)
    kept = 0

    @hypothesis_seed(seed)
    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=module.READERS[reader][1])
    def collect(data: bytes) -> None:
        nonlocal kept
        kept += 1
        (corpus / f"seed{kept:04d}").write_bytes(data)

    collect()


def run_atheris(reader: str, inputs: int, seed: int, crash_dir: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="fuzz_tally_corpus_") as folder:
        corpus = Path(folder) / "corpus"
        seed_corpus(reader, corpus, seed)
        stats = Path(folder) / "stats.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--atheris-child",
            reader,
            str(inputs),
            str(stats),
            str(corpus),
            str(crash_dir),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if not stats.exists():
            return {"reader": reader, "error": completed.stderr[-2000:]}
        result: dict[str, Any] = json.loads(stats.read_text())
        result["libfuzzer_exit"] = completed.returncode
        return result


# --- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument(
        "--engine", choices=["hypothesis", "atheris", "both"], default="both"
    )
    parser.add_argument("--readers", default=",".join(READER_NAMES))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--crash-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "fuzz_tally_crashes",
    )
    parser.add_argument("--atheris-child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.atheris_child:
        reader, inputs, stats, corpus, crash_dir = args.atheris_child
        atheris_child(reader, int(inputs), Path(stats), Path(corpus), Path(crash_dir))
        return 0

    engines = ["hypothesis", "atheris"] if args.engine == "both" else [args.engine]
    if "atheris" in engines:
        try:
            import atheris  # noqa: F401
        except ImportError:
            print("atheris is not installed: running hypothesis only")
            engines.remove("atheris")
    crashes = 0
    for reader in args.readers.split(","):
        for engine in engines:
            start = time.perf_counter()
            runner = run_hypothesis if engine == "hypothesis" else run_atheris
            summary = runner(reader, args.inputs, args.seed, args.crash_dir)
            summary["seconds"] = round(time.perf_counter() - start, 1)
            crashes += int(summary.get("crash", 0)) + ("error" in summary)
            print(f"{engine:10s} {json.dumps(summary, ensure_ascii=False)}", flush=True)
    print(
        f"crashes: {crashes}"
        + (f" (inputs saved in {args.crash_dir})" if crashes else "")
    )
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
