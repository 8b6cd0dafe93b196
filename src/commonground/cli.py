"""The ``commonground`` command: the platform and the engines from the shell.

Each subcommand is a thin layer: ``serve`` and ``manage`` drive the Django
project; ``tally``, ``opinion`` and ``sortition`` hand their arguments to the
engine's own ``cli.main(argv)``, so the engines stay usable without Django.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

ENGINE_COMMANDS = {
    "tally": "count ballots (IRV, STV, Schulze, approval, ...) and report every round",
    "opinion": "map the opinion groups of a conversation and what they agree on",
    "sortition": "select a fair panel from a pool with quotas, and re-run a draw",
}


def _django_manage(argv: Sequence[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commonground.site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["commonground manage", *argv])
    return 0


def _serve(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="commonground serve",
        description="Migrate the database, then serve the platform.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--gunicorn",
        action="store_true",
        help="serve with gunicorn (production) instead of Django's development server",
    )
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    _django_manage(["migrate", "--no-input"])
    if args.gunicorn:
        os.execvp(  # noqa: S606 - replaces this process with gunicorn on purpose
            "gunicorn",
            [
                "gunicorn",
                "commonground.site.wsgi",
                "--bind",
                f"{args.host}:{args.port}",
                "--workers",
                str(args.workers),
            ],
        )
    return _django_manage(["runserver", f"{args.host}:{args.port}"])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commonground",
        description="Common Ground: the platform and its engines from the command line.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("serve", help="migrate and serve the platform", add_help=False)
    commands.add_parser(
        "manage", help="run a Django management command", add_help=False
    )
    for name, summary in ENGINE_COMMANDS.items():
        commands.add_parser(name, help=summary, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        _parser().print_help()
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "serve":
        return _serve(rest)
    if command == "manage":
        return _django_manage(rest)
    if command in ENGINE_COMMANDS:
        engine_cli = importlib.import_module(f"commonground.engines.{command}.cli")
        return int(engine_cli.main(rest) or 0)
    _parser().error(f"unknown command {command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
