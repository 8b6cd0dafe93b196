"""Forms for proposals, amendments, ballots, elections and nominations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from commonground.members.models import User

from .models import Election, Method, StvRules
from .services.options import option_lines


class OptionLinesField(forms.CharField):
    """A text box of options, one per line; cleans to the list of lines.

    Only the line breaks a browser sends separate options; a line holding another
    separator (U+2028...) is an error naming the line (``services.options``).
    """

    widget = forms.Textarea(attrs={"rows": 5})

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        return option_lines(text) if text else []


class MemberChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.public_name)


class ProposalForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(
        label=_("Proposal"),
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("Markdown: **bold**, *italic*, lists, links and headings."),
    )
    coauthors = MemberChoiceField(
        label=_("Co-authors"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Fellow members who wrote it with you."),
    )
    support_share_percent = forms.IntegerField(
        # xgettext:no-python-format
        label=_("Share of members whose support sends it to a ballot (%)"),
        min_value=1,
        max_value=100,
        initial=10,
    )
    support_period_days = forms.IntegerField(
        label=_("Days to gather support"), min_value=1, max_value=365, initial=30
    )
    voting_days = forms.IntegerField(
        label=_("Days of voting"), min_value=1, max_value=60, initial=7
    )

    def __init__(self, *args: Any, members: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if members is not None:
            coauthors = self.fields["coauthors"]
            assert isinstance(coauthors, forms.ModelMultipleChoiceField)
            coauthors.queryset = members


class AmendmentForm(forms.Form):
    title = forms.CharField(label=_("Amendment title"), max_length=200)
    text = forms.CharField(
        label=_("What to change"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Markdown. Say what to add, remove or replace."),
    )


class NominationForm(forms.Form):
    statement = forms.CharField(
        label=_("Your statement"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Why members should choose you (Markdown)."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000)


def _default_close() -> Any:
    return (timezone.now() + timedelta(days=7)).replace(second=0, microsecond=0)


class ElectionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What kind of vote"),
        choices=[
            (Election.Kind.QUESTION, _("A question with options")),
            (
                Election.Kind.ELECTION,
                _("An election with nominations (open selection)"),
            ),
        ],
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    method = forms.ChoiceField(label=_("Counting method"), choices=Method.choices)
    options = OptionLinesField(
        label=_("Options (one per line)"),
        required=False,
        help_text=_("For a question. Candidates of an election come from nominations."),
    )
    seats = forms.IntegerField(
        label=_("Seats to fill"), min_value=1, max_value=50, initial=1
    )
    rules = forms.ChoiceField(label=_("STV rule set"), choices=StvRules.choices)
    quorum_percent = forms.IntegerField(
        # xgettext:no-python-format
        label=_("Quorum (% of eligible members who must vote)"),
        min_value=0,
        max_value=100,
        initial=0,
    )
    majority_percent = forms.IntegerField(
        # xgettext:no-python-format
        label=_("Yes must exceed this % of yes and no votes"),
        min_value=0,
        max_value=99,
        initial=50,
    )
    allow_revote = forms.BooleanField(
        label=_("Members may change their vote until close (the last one counts)"),
        required=False,
        initial=True,
    )
    nominations_open_at = forms.DateTimeField(
        label=_("Nominations open (UTC)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    nominations_close_at = forms.DateTimeField(
        label=_("Nominations close (UTC)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    required_seconds = forms.IntegerField(
        label=_("Seconds each nomination needs"), min_value=0, max_value=20, initial=1
    )
    opens_at = forms.DateTimeField(
        label=_("Voting opens (UTC)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty to open it later by hand."),
    )
    closes_at = forms.DateTimeField(
        label=_("Voting closes (UTC)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class OpenForm(forms.Form):
    closes_at = forms.DateTimeField(
        label=_("Voting closes (UTC)"),
        initial=_default_close,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class ElectionEditForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    options = OptionLinesField(
        label=_("Options (one per line)"),
        required=False,
        help_text=_(
            "Candidates of an election come from nominations and are not edited here."
        ),
    )
