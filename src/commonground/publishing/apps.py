"""The publishing app: articles and interviews, the movement's public face, with
threaded, moderated discussion from the discussion app."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import Label

# What the group log says for each action this app records.
AUDIT_ACTIONS: dict[str, Label] = {}


class PublishingConfig(AppConfig):
    name = "commonground.publishing"
    verbose_name = _("Publishing")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commonground.core.capabilities import Capability, register

        register(Capability(app=self.name, audit_actions=AUDIT_ACTIONS))
