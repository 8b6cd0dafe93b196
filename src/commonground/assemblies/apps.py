"""The assemblies app's configuration and its capability entry."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import Label

# What the group log says for each action this app records.
AUDIT_ACTIONS: dict[str, Label] = {
    "assembly.created": _("created an assembly"),
    "assembly.setting_changed": _("changed a setting of an assembly"),
    "assembly.quotas_changed": _("set the quotas of an assembly"),
    "assembly.recruitment_opened": _("opened recruitment for an assembly"),
    "assembly.members_invited": _("invited a random sample of members to an assembly"),
    "assembly.registrant_removed": _("removed a person from an assembly's pool"),
    "assembly.draw_committed": _("froze the pool and committed a draw"),
    "assembly.draw_started": _("entered the public random number of a draw"),
    "assembly.draw_finished": _("published the panel drawn"),
    "assembly.draw_failed": _("recorded a failed draw"),
    "assembly.seat_dropped_out": _("recorded that a panel member dropped out"),
}


class AssembliesConfig(AppConfig):
    name = "commonground.assemblies"
    verbose_name = _("Assemblies")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commonground.core.capabilities import Capability, GroupSection, register

        # Importing the tasks registers them in every process: services queue them
        # by name.
        from . import demo, notifications, rules, selectors, services, tasks  # noqa: F401

        register(
            Capability(
                app=self.name,
                group_sections=(
                    GroupSection(
                        key="assemblies",
                        label=_("Assemblies"),
                        url_name="assemblies:group",
                        visible=rules.can_see_group_assemblies,
                        order=37,
                        count=selectors.group_open_count,
                    ),
                ),
                personal_data={"assemblies": selectors.personal_data_assemblies},
                erase_personal_data=services.member_forget,
                audit_actions=AUDIT_ACTIONS,
                notification_kinds=notifications.NOTIFICATION_KINDS,
                demo_seed=demo.seed,
                archive_blockers=selectors.archive_blockers,
            )
        )
