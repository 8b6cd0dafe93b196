"""The onboarding app: a movement's membership register comes in (CSV/XLSX import with
column mapping and dry run, postcode-to-branch tables), goes out (the same layout, and
OSDI), and its members are invited to claim their accounts."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import Label

# What the group log says for each action this app records.
AUDIT_ACTIONS: dict[str, Label] = {
    "register.imported": _("imported the membership register"),
    "register.exported": _("exported the membership register"),
    "register.postcode_areas_replaced": _("replaced the postcode-to-branch table"),
}


class OnboardingConfig(AppConfig):
    name = "commonground.onboarding"
    verbose_name = _("Membership register")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commonground.core.capabilities import Capability, GroupSection, register

        from . import rules, selectors, services

        register(
            Capability(
                app=self.name,
                group_sections=(
                    GroupSection(
                        key="register",
                        label=_("Membership register"),
                        url_name="onboarding:register",
                        visible=rules.can_see_register_section,
                        order=96,
                    ),
                ),
                personal_data={"register": selectors.register_for_export},
                erase_personal_data=services.register_entries_erase,
                audit_actions=AUDIT_ACTIONS,
            )
        )
