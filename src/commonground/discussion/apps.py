"""The discussion app: threaded comments on anything an app gives a rule for, and moderation."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# What the group log says for each action this app records.
AUDIT_ACTIONS = {
    "comment.removed": _("removed a comment"),
    "comment.restored": _("restored a comment"),
    "comment.reports_dismissed": _("dismissed reports on a comment"),
    "comment.auto_hidden": _("hid a comment after several reports"),
    "comment.approved": _("approved a visitor's comment"),
    "comment.visitor_erased": _("erased a visitor's name and address"),
}

# Entries written before action names were past tense keep their old names (the
# log is hash-chained and never rewritten); they mean the current action.
AUDIT_ALIASES = {
    "comment.remove": "comment.removed",
    "comment.restore": "comment.restored",
    "comment.reports_dismiss": "comment.reports_dismissed",
    "comment.auto_hide": "comment.auto_hidden",
}


class DiscussionConfig(AppConfig):
    name = "commonground.discussion"
    verbose_name = _("Discussion")

    def ready(self) -> None:
        from commonground.core.capabilities import Capability, GroupSection, register

        from . import rules, selectors, services
        from .notifications import NOTIFICATION_KINDS

        register(
            Capability(
                app=self.name,
                group_sections=(
                    GroupSection(
                        key="moderation",
                        label=_("Moderation"),
                        url_name="discussion:moderation",
                        visible=rules.can_moderate_group,
                        order=90,
                        count=selectors.moderation_waiting,
                        overview=selectors.moderation_overview,
                    ),
                ),
                personal_data={
                    "comments": selectors.comments_for_export,
                    "comments_as_visitor": selectors.member_visitor_comments_for_export,
                },
                erase_personal_data=services.visitor_comments_erase_for_member,
                audit_actions=AUDIT_ACTIONS,
                audit_aliases=AUDIT_ALIASES,
                notification_kinds=NOTIFICATION_KINDS,
            )
        )
