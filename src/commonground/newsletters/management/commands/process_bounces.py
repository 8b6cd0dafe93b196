"""``manage.py process_bounces [FILE ...]``: record the bounces in RFC 3464 reports.

Each file (or standard input, without files or with ``-``) holds one bounce email
as the mail server sent it back. Hard bounces and complaints mark the address so
newsletters skip it; soft bounces are counted on the newsletter's report only. A
mail server can pipe bounces straight in (e.g. an alias ``| manage.py
process_bounces``); files that are not delivery reports are passed over.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from commonground.newsletters import bounces, services


class Command(BaseCommand):
    help = "Record the bounces in RFC 3464 delivery status notifications."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "files", nargs="*", help="bounce emails; none or '-' reads standard input"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sources = options["files"] or ["-"]
        counts = {"reports": 0, "bounces": 0, "marked": 0, "not_reports": 0}
        for source in sources:
            found = bounces.bounces_from_dsn(self._read(source))
            if not found:
                counts["not_reports"] += 1
                continue
            counts["reports"] += 1
            for bounce in found:
                outcome = services.bounce_record(bounce=bounce)
                counts["bounces"] += 1
                counts["marked"] += outcome.address_marked
        self.stdout.write(
            "{reports} reports, {bounces} bounces, {marked} addresses marked, "
            "{not_reports} inputs that were not delivery reports".format(**counts)
        )

    def _read(self, source: str) -> bytes:
        if source == "-":
            return sys.stdin.buffer.read()
        try:
            return Path(source).read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {source}: {error}") from error
