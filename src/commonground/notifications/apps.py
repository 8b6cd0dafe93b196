"""The notifications app: one delivery service every app calls."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "commonground.notifications"
    label = "notifications"
    verbose_name = _("Notifications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commonground.core.capabilities import Capability, register

        from . import selectors, services

        register(
            Capability(
                app=self.name,
                personal_data={"notifications": selectors.personal_data_notifications},
                erase_personal_data=services.member_forget,
                audit_actions={},
            )
        )
