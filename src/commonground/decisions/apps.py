"""The decisions app: proposals, amendments, ballots and elections, counted by engines.tally."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# What the group log says for each action this app records.
AUDIT_ACTIONS = {
    "proposal.created": _("drafted a proposal"),
    "proposal.edited": _("edited a proposal"),
    "proposal.published": _("published a proposal"),
    "proposal.sent_to_ballot": _("sent a proposal to a ballot"),
    "proposal.lapsed": _("marked a proposal as lapsed"),
    "amendment.proposed": _("proposed an amendment"),
    "amendment.accepted": _("accepted an amendment"),
    "amendment.sent_to_vote": _("sent an amendment to a vote"),
    "election.created": _("created a ballot"),
    "election.edited": _("edited a ballot"),
    "election.edit_refused": _("tried to edit a ballot after it opened (refused)"),
    "election.scheduled": _("scheduled a ballot"),
    "election.opened": _("opened a ballot"),
    "election.closed": _("closed a ballot"),
    "election.counted": _("counted a ballot"),
    "election.count_refused": _("refused to count a ballot whose seal did not match"),
    "nomination.submitted": _("submitted a nomination"),
    "nomination.accepted": _("accepted a fully seconded nomination"),
    "nomination.withdrawn": _("withdrew a nomination"),
    "nomination.rejected": _("rejected a nomination"),
}


class DecisionsConfig(AppConfig):
    name = "commonground.decisions"
    verbose_name = _("Decisions: proposals, ballots and elections")

    def ready(self) -> None:
        from commonground.core.capabilities import (
            Capability,
            DashboardPanel,
            GroupSection,
            register,
        )

        from . import demo, discussions, notifications, rules, selectors
        from .models import Election, Proposal

        register(
            Capability(
                app=self.name,
                archive_blockers=selectors.archive_blockers,
                dashboard_panels=(
                    DashboardPanel(
                        key="decisions",
                        title=_("Votes and proposals"),
                        template="decisions/panels/dashboard.html",
                        context=selectors.dashboard_decisions,
                        order=30,
                    ),
                ),
                group_sections=(
                    GroupSection(
                        key="decisions",
                        label=_("Proposals and ballots"),
                        url_name="decisions:group_decisions",
                        visible=rules.can_see_group_decisions,
                        order=30,
                        count=selectors.group_open_items,
                        overview=selectors.group_overview,
                    ),
                ),
                personal_data={"decisions": selectors.personal_data_decisions},
                audit_actions=AUDIT_ACTIONS,
                discussion_rules={
                    Proposal: discussions.ProposalDiscussion(),
                    Election: discussions.HustingsDiscussion(),
                },
                demo_seed=demo.seed,
                notification_kinds=notifications.NOTIFICATION_KINDS,
            )
        )
