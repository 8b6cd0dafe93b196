"""Load the demo movement (idempotent): ``manage.py seed_demo``.

Each capability may name a ``demo_seed`` in its registration (see
``commonground.core.capabilities``); they run in INSTALLED_APPS order and share one
context, so later capabilities add their demo content without editing this command.
The members app puts the demo logins in ``context["logins"]``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from commonground.core.capabilities import demo_seeds


class Command(BaseCommand):
    help = "Load the demo movement (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        context: dict[str, Any] = {}
        for seed in demo_seeds():
            seed(context)
        state = "already loaded" if context.get("skipped") else "loaded"
        self.stdout.write(self.style.SUCCESS(f"Demo movement {state}."))
        password = context.get("password", "")
        self.stdout.write(f"Demo logins (password for all: {password}):")
        for email, description in context.get("logins", []):
            self.stdout.write(f"  {email:42} {description}")
