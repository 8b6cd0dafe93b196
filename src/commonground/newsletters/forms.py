"""Forms: writing a newsletter (content and audience) and scheduling it."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from commonground.members.models import Group, Membership, Role

from .selectors import AUDIENCE_STATUSES, audience_group_choices
from .services.editing import BODY_MAX, ROLE_CHOICES, SUBJECT_MAX

STATUS_LABELS: dict[str, Any] = {
    Membership.Status.ACTIVE: _("Active members"),
    Membership.Status.LAPSED: _("Lapsed members (their membership ran out)"),
    Membership.Status.APPLIED: _("Applicants waiting for a decision"),
    Membership.Status.SUSPENDED: _("Suspended members"),
}
ROLE_LABELS: dict[str, Any] = {
    Role.ORGANISER: _("Organisers"),
    Role.MODERATOR: _("Moderators"),
    Role.RETURNING_OFFICER: _("Returning officers"),
    Role.WRITER: _("Writers"),
    Role.EDITOR: _("Editors"),
    Role.ADMIN: _("Admins"),
}


class NewsletterForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX)
    body = forms.CharField(
        label=_("Newsletter"),
        max_length=BODY_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text=_(
            "Markdown: *emphasis*, **bold**, [a link](https://example.org), lists "
            "and headings. Images and HTML are left out."
        ),
    )
    audience_group = forms.ModelChoiceField(
        label=_("Send to members of"),
        queryset=Group.objects.none(),
        empty_label=None,
        help_text=_("Members of the groups inside it get it too."),
    )
    statuses = forms.MultipleChoiceField(
        label=_("Whose membership is"),
        choices=[(status, STATUS_LABELS[status]) for status in AUDIENCE_STATUSES],
        widget=forms.CheckboxSelectMultiple,
        initial=[Membership.Status.ACTIVE],
    )
    roles = forms.MultipleChoiceField(
        label=_("Only members holding one of these roles"),
        choices=[(role, ROLE_LABELS[role]) for role in ROLE_CHOICES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Tick none to write to every member whose status is ticked."),
    )

    def __init__(self, *args: Any, group: Group, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["audience_group"])
        field.queryset = audience_group_choices(group)
        field.initial = group.pk
        # Show the tree: each group indented under the one above it.
        depth = group.depth
        field.label_from_instance = lambda g: (  # type: ignore[method-assign,assignment]
            "\u2003" * (g.depth - depth) + g.name
        )


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(
        label=_("Send on"),
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
        help_text=_("In your time zone. Sending starts within a minute of it."),
    )
