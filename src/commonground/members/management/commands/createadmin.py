"""``commonground manage createadmin``: the first admin and organisation, scripted.

The password comes from COMMONGROUND_ADMIN_PASSWORD or is asked for twice; it is
never a command-line argument (those show in process lists and shell history).
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from commonground.members import services


class Command(BaseCommand):
    help = "Create the first administrator and organisation of an empty site."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True, help="The admin's display name.")
        parser.add_argument("--organisation", required=True, help="Its name.")
        parser.add_argument(
            "--slug", required=True, help="Its web address, e.g. northern-people."
        )

    def _password(self) -> str:
        password = os.environ.get("COMMONGROUND_ADMIN_PASSWORD", "")
        if password:
            return password
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ.")
        return first

    def handle(self, *args: Any, **options: Any) -> None:
        if not services.site_is_empty():
            raise CommandError("This site already has accounts; nothing was created.")
        try:
            done = services.site_setup(
                name=options["name"],
                email=options["email"],
                password=self._password(),
                organisation_name=options["organisation"],
                slug=options["slug"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(
            f"Created admin {done.admin.email} and organisation "
            f"{done.organisation.name} (/groups/{done.top_group.slug}/)."
        )
