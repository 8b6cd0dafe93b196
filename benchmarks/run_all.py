"""Run every benchmark script in this folder (``make bench``), one after another.

Each ``bench_*.py`` runs our code and its peers side by side on the same data and
prints times and ratios; the figures go into docs/performance.md by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failures = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.name} ===", flush=True)
        failures += (
            subprocess.run([sys.executable, str(script)], check=False).returncode != 0
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
