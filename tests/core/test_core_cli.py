"""The ``commonground`` console command."""

from __future__ import annotations

import subprocess
import sys


def test_help_lists_every_subcommand():
    result = subprocess.run(
        [sys.executable, "-m", "commonground.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for command in ("serve", "manage", "tally", "opinion", "sortition"):
        assert command in result.stdout


def test_unknown_command_is_a_usage_error():
    result = subprocess.run(
        [sys.executable, "-m", "commonground.cli", "frobnicate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "unknown command" in result.stderr


def test_manage_runs_django_commands():
    result = subprocess.run(
        [sys.executable, "-m", "commonground.cli", "manage", "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
