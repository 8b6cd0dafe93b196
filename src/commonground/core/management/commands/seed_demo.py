"""Load the demo movement (idempotent): ``manage.py seed_demo``.

Each platform app may provide ``<app>.demo.seed(context)``; they run in
INSTALLED_APPS order, so later capabilities add their demo content without
editing this command.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand

from commonground.members.demo import DEMO_PASSWORD, LOGINS, email_for


class Command(BaseCommand):
    help = "Load the demo movement (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        context: dict[str, Any] = {}
        for config in apps.get_app_configs():
            if not config.name.startswith("commonground."):
                continue
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as error:
                if error.name != f"{config.name}.demo":
                    raise
                continue
            module.seed(context)
        state = "already loaded" if context.get("skipped") else "loaded"
        self.stdout.write(self.style.SUCCESS(f"Demo movement {state}."))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for local, _, description in LOGINS:
            self.stdout.write(f"  {email_for(local):42} {description}")
