"""The engines must work without Django: importing them loads no django module."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("engine", ["tally", "opinion", "sortition"])
def test_engine_imports_without_loading_django(engine):
    code = (
        f"import sys, commonground.engines.{engine}; "
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
