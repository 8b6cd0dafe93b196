"""CI's smoke run of benchmarks/bench_casts.py: a few seconds of real casts over HTTP
(gunicorn, PostgreSQL, Redis, wrk), asserting that the counts add up, never speed.

The benchmark itself checks one member one ballot afterwards (ballots == distinct
participants == participation rows, each ballot a participant's voter token, all on
the roll, every paper well formed, the participants those who were sent) and fails
on any 5xx, socket error or server traceback; this test runs it small and reads its
JSON report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from scale.processes import REPOSITORY, ops_redis_url, skip_or_fail

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

SMOKE_REDIS_DB = "11"


def test_a_few_seconds_of_casts_over_http_leave_one_ballot_per_participant(
    tmp_path,
):
    ops_redis_url()  # skips without Redis (fails in CI)
    if shutil.which("wrk") is None:
        skip_or_fail("wrk is not installed (Debian: apt-get install -y wrk)")
    report = tmp_path / "bench.json"
    env = {
        **os.environ,
        "BENCH_CASTS_DB": f"commonground_bench_smoke_{uuid.uuid4().hex[:8]}",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            str(REPOSITORY / "benchmarks" / "bench_casts.py"),
            "--duration",
            "2",
            "--warmup",
            "0",
            "--members",
            "120",
            "--workers",
            "2",
            "--connections",
            "4",
            "--redis-db",
            SMOKE_REDIS_DB,
            "--json",
            str(report),
        ],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "SKIP" not in done.stdout, done.stdout
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(report.read_text())
    assert results["server_tracebacks"] == 0
    for run in results["runs"]:
        assert run["casts"] > 0, run
        assert not run["socket_errors"], run
        assert not any(status.startswith("5") for status in run["other_statuses"])
        check = results["verify"][run["kind"]]
        assert check["ok"] and check["participants_as_sent"], check
        assert check["ballots"] == check["participants"] == check["participation_rows"]
