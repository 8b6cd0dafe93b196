from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "commonground.members"
    verbose_name = "Members and groups"

    def ready(self) -> None:
        from commonground.core.dashboard import DashboardPanel, register_panel

        from . import selectors

        register_panel(
            DashboardPanel(
                key="memberships",
                title="My groups",
                template="members/panels/memberships.html",
                context=selectors.dashboard_memberships,
                order=10,
            )
        )
        register_panel(
            DashboardPanel(
                key="applications",
                title="Applications waiting for you",
                template="members/panels/applications.html",
                context=selectors.dashboard_pending_applications,
                order=20,
            )
        )
