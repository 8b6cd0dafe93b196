"""The conversations app: Pol.is-style conversations that find common ground, with
opinion maps computed by ``commonground.engines.opinion``."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import Label

# What the group log says for each action this app records.
AUDIT_ACTIONS: dict[str, Label] = {}


class ConversationsConfig(AppConfig):
    name = "commonground.conversations"
    verbose_name = _("Conversations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commonground.core.capabilities import Capability, register

        register(Capability(app=self.name, audit_actions=AUDIT_ACTIONS))
