"""The newsletters app: organisers write to an audience (groups, roles, statuses),
preview, test, schedule and send in the background at the mail server's rate, with
one-click unsubscribe and per-newsletter reports."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import Label

# What the group log says for each action this app records.
AUDIT_ACTIONS: dict[str, Label] = {
    "newsletter.scheduled": _("scheduled a newsletter"),
    "newsletter.unscheduled": _("took a newsletter back to draft"),
    "newsletter.cancelled": _("cancelled a newsletter"),
    "newsletter.sending_started": _("started sending a newsletter"),
    "newsletter.sent": _("finished sending a newsletter"),
}


class NewslettersConfig(AppConfig):
    name = "commonground.newsletters"
    verbose_name = _("Newsletters")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commonground.core.capabilities import (
            Capability,
            GroupSection,
            NotificationKind,
            register,
        )

        from . import emails, rules, selectors

        register(
            Capability(
                app=self.name,
                group_sections=(
                    GroupSection(
                        key="newsletters",
                        label=_("Newsletters"),
                        url_name="newsletters:group_newsletters",
                        visible=rules.can_manage_newsletters,
                        order=85,
                        count=selectors.newsletters_open_count,
                    ),
                ),
                personal_data={"newsletters": selectors.personal_data_newsletters},
                audit_actions=AUDIT_ACTIONS,
                # Where members choose whether they get newsletters (per group);
                # the newsletter's one-click unsubscribe sets it to "none". Never
                # in the notification centre: a newsletter is an email.
                notification_kinds=(
                    NotificationKind(
                        name=emails.KIND,
                        label=_("Newsletters from my groups"),
                        default_channel="email",
                        statutory=False,
                        in_app=False,
                    ),
                ),
            )
        )
