"""The members app: people, organisations, groups, memberships and roles."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# What the group log says for each action this app records.
AUDIT_ACTIONS = {
    "membership.approved": _("approved an application"),
    "membership.declined": _("declined an application"),
    "membership.suspended": _("suspended a member"),
    "membership.reinstated": _("reinstated a member"),
    "membership.lapsed": _("marked a membership as lapsed"),
    "role.assigned": _("assigned a role"),
    "role.revoked": _("removed a role"),
    "group.settings_changed": _("changed the group's settings"),
    "group.created": _("created the group"),
    "account.deleted": _("deleted their account"),
    "organisation.branding_changed": _(
        "changed the organisation's name, logo or colour"
    ),
    "member.email_bounced": _("recorded that mail to a member bounced"),
    "group.renamed": _("renamed the group"),
    "group.moved": _("moved the group to another place in the tree"),
    "group.archived": _("archived the group"),
    "group.unarchived": _("brought the group back from the archive"),
    "verification.letters_issued": _("printed verification letters"),
    "member.verified": _("verified a member for voting"),
    "organisation.verification_changed": _("changed how members are verified"),
    "invitations.sent": _("sent invitations to claim accounts"),
    "invitation.claimed": _("claimed their account"),
}

# Entries written before action names were past tense keep their old names (the
# log is hash-chained and never rewritten); they mean the current action.
AUDIT_ALIASES = {
    "membership.approve": "membership.approved",
    "membership.decline": "membership.declined",
    "membership.suspend": "membership.suspended",
    "membership.reinstate": "membership.reinstated",
    "membership.lapse": "membership.lapsed",
    "role.assign": "role.assigned",
    "role.revoke": "role.revoked",
    "group.settings": "group.settings_changed",
    "group.create": "group.created",
    "account.delete": "account.deleted",
}


class MembersConfig(AppConfig):
    name = "commonground.members"
    verbose_name = _("Members and groups")

    def ready(self) -> None:
        from commonground.core.capabilities import (
            Capability,
            DashboardPanel,
            GroupSection,
            register,
        )

        from . import demo, rules, selectors
        from .notifications import NOTIFICATION_KINDS

        register(
            Capability(
                app=self.name,
                dashboard_panels=(
                    DashboardPanel(
                        key="memberships",
                        title=_("My groups"),
                        template="members/panels/memberships.html",
                        context=selectors.dashboard_memberships,
                        order=10,
                    ),
                    DashboardPanel(
                        key="applications",
                        title=_("Applications waiting for you"),
                        template="members/panels/applications.html",
                        context=selectors.dashboard_pending_applications,
                        order=20,
                    ),
                ),
                group_sections=(
                    GroupSection(
                        key="members",
                        label=_("Members"),
                        url_name="members:group_members",
                        visible=rules.can_see_members,
                        order=70,
                    ),
                    GroupSection(
                        key="log",
                        label=_("Audit log"),
                        url_name="members:group_log",
                        visible=rules.can_see_members,
                        order=80,
                    ),
                    GroupSection(
                        key="manage",
                        label=_("Organiser tools"),
                        url_name="members:group_manage",
                        visible=rules.can_manage_group,
                        order=95,
                        count=selectors.group_pending_applications,
                        overview=selectors.group_manage_overview,
                    ),
                ),
                audit_actions=AUDIT_ACTIONS,
                audit_aliases=AUDIT_ALIASES,
                demo_seed=demo.seed,
                notification_kinds=NOTIFICATION_KINDS,
                email_brand=selectors.email_brand_for_group,
            )
        )
