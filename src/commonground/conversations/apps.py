"""The conversations app: Pol.is-style conversations that find common ground, with
opinion maps computed by ``commonground.engines.opinion``."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import Label

# What the group log says for each action this app records.
AUDIT_ACTIONS: dict[str, Label] = {
    "conversation.opened": _("opened a conversation"),
    "conversation.setting_changed": _("changed a setting of a conversation"),
    "conversation.closed": _("closed a conversation"),
    "conversation.imported": _("imported a conversation from Pol.is"),
    "statement.added": _("added a statement to a conversation"),
    "statement.accepted": _("accepted a statement"),
    "statement.rejected": _("rejected a statement"),
    "statement.restored": _("restored a statement"),
    "statement.reports_dismissed": _("dismissed reports on a statement"),
    "statement.auto_hidden": _("hid a statement after several reports"),
    "statement.proposed": _("turned a statement into a proposal"),
}


class ConversationsConfig(AppConfig):
    name = "commonground.conversations"
    verbose_name = _("Conversations")
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
                        key="conversations",
                        label=_("Conversations"),
                        url_name="conversations:group",
                        visible=rules.can_see_group_conversations,
                        order=35,
                        count=selectors.group_open_count,
                        overview=selectors.group_overview,
                    ),
                ),
                personal_data={"conversations": selectors.personal_data_conversations},
                erase_personal_data=services.member_forget,
                audit_actions=AUDIT_ACTIONS,
                notification_kinds=notifications.NOTIFICATION_KINDS,
                demo_seed=demo.seed,
                archive_blockers=selectors.archive_blockers,
            )
        )
