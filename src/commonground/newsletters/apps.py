"""The newsletters app: organisers write to an audience (groups, roles, statuses),
preview, test, schedule and send in the background at the mail server's rate, with
one-click unsubscribe and per-newsletter reports."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import Label

# What the group log says for each action this app records.
AUDIT_ACTIONS: dict[str, Label] = {}


class NewslettersConfig(AppConfig):
    name = "commonground.newsletters"
    verbose_name = _("Newsletters")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commonground.core.capabilities import Capability, register

        register(Capability(app=self.name, audit_actions=AUDIT_ACTIONS))
