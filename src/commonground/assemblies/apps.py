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
    "assembly.draw_requeued": _("queued a running draw again"),
    "assembly.seat_dropped_out": _("recorded that a panel member dropped out"),
}

# The panel's deliberation (issue 16, item 4): organisers' acts under their name,
# panel members' without one (services.deliberation).
DELIBERATION_AUDIT_ACTIONS: dict[str, Label] = {
    "assembly.deliberation_started": _("started an assembly's deliberation"),
    "assembly.session_scheduled": _("scheduled a session of an assembly's panel"),
    "assembly.session_changed": _("changed a session of an assembly's panel"),
    "assembly.session_cancelled": _("cancelled a session of an assembly's panel"),
    "assembly.recommendation_drafted": _("drafted a recommendation of a panel"),
    "assembly.recommendation_edited": _("edited a draft recommendation of a panel"),
    "assembly.panel_vote_opened": _("opened the panel's vote on recommendations"),
    "assembly.recommendations_published": _(
        "published a panel's recommendations and votes"
    ),
    "assembly.recommendation_proposed": _(
        "sent a panel's recommendation to the membership as a proposal"
    ),
    "assembly.recommendation_balloted": _(
        "sent a panel's recommendation to the membership as a ballot"
    ),
    "assembly.panel_welcomed": _(
        "invited people seated without an account to take their seats"
    ),
    "assembly.panel_seat_taken": _("recorded that a panel member took their seat"),
}


class AssembliesConfig(AppConfig):
    name = "commonground.assemblies"
    verbose_name = _("Assemblies")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commonground.core.capabilities import (
            Capability,
            DashboardPanel,
            GroupSection,
            register,
        )

        # Importing the tasks registers them in every process: services queue them
        # by name.
        from . import (  # noqa: F401
            deliberation_notifications,
            deliberation_selectors,
            demo,
            notifications,
            rules,
            selectors,
            services,
            tasks,
        )
        from .services import deliberation_discussion

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
                        overview=selectors.group_overview,
                    ),
                ),
                personal_data={
                    "assemblies": selectors.personal_data_assemblies,
                    "assembly_recommendations": (
                        deliberation_selectors.personal_data_recommendations
                    ),
                },
                erase_personal_data=services.member_forget,
                audit_actions={**AUDIT_ACTIONS, **DELIBERATION_AUDIT_ACTIONS},
                notification_kinds=notifications.NOTIFICATION_KINDS
                + deliberation_notifications.NOTIFICATION_KINDS,
                discussion_rules=deliberation_discussion.DISCUSSION_RULES,
                dashboard_panels=(
                    DashboardPanel(
                        key="assembly_panels",
                        title=_("Assembly panels you sit on"),
                        template="assemblies/deliberation/dashboard.html",
                        context=deliberation_selectors.dashboard_panel_seats,
                        order=35,
                    ),
                ),
                demo_seed=demo.seed,
                archive_blockers=selectors.archive_blockers,
            )
        )
