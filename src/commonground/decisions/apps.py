from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "commonground.decisions"
    verbose_name = "Decisions: proposals, ballots and elections"

    def ready(self) -> None:
        from commonground.core.dashboard import DashboardPanel, register_panel
        from commonground.core.group_links import GroupLink, register_group_link
        from commonground.core.personal_data import register_personal_data

        from . import discussions, selectors

        discussions.register()
        register_personal_data("decisions", selectors.personal_data_decisions)

        register_panel(
            DashboardPanel(
                key="decisions",
                title="Votes and proposals",
                template="decisions/panels/dashboard.html",
                context=selectors.dashboard_decisions,
                order=30,
            )
        )
        register_group_link(
            GroupLink(
                key="decisions",
                label="Proposals and ballots",
                url_name="decisions:group_decisions",
                visible=lambda viewer: bool(
                    viewer.is_member or viewer.can_manage or viewer.group.is_public
                ),
                order=30,
            )
        )
