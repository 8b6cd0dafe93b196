"""The onboarding app: a movement's membership register comes in (CSV/XLSX import with
column mapping and dry run, postcode-to-branch tables), goes out (the same layout, and
OSDI), and its members are invited to claim their accounts."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import Label

# What the group log says for each action this app records.
AUDIT_ACTIONS: dict[str, Label] = {}


class OnboardingConfig(AppConfig):
    name = "commonground.onboarding"
    verbose_name = _("Membership register")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commonground.core.capabilities import Capability, register

        register(Capability(app=self.name, audit_actions=AUDIT_ACTIONS))
