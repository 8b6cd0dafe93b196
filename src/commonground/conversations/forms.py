"""Forms for opening, changing and importing conversations, adding statements and
moderating them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import (
    CONTEXT_MAX_LENGTH,
    QUESTION_MAX_LENGTH,
    REASON_MAX_LENGTH,
    STATEMENT_MAX_LENGTH,
    EngineMode,
    MapVisibility,
    Moderation,
    Participation,
    StatementPolicy,
)
from .services import ConversationSettings

# Seed statements an organiser may give when opening a conversation.
MAX_SEEDS = 100
# The largest export file accepted for an import (each of the four files).
IMPORT_MAX_BYTES = 20 * 1024 * 1024


class SettingsForm(forms.Form):
    question = forms.CharField(
        label=_("Question"),
        max_length=QUESTION_MAX_LENGTH,
        help_text=_("What should the conversation find out? One clear question."),
    )
    context = forms.CharField(
        label=_("Context"),
        max_length=CONTEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Background participants should know, in Markdown."),
    )
    participation = forms.ChoiceField(
        label=_("Who may take part"),
        choices=Participation.choices,
        initial=Participation.MEMBERS,
        widget=forms.RadioSelect,
    )
    statement_policy = forms.ChoiceField(
        label=_("Who may add statements"),
        choices=StatementPolicy.choices,
        initial=StatementPolicy.EVERYONE,
        widget=forms.RadioSelect,
    )
    moderation = forms.ChoiceField(
        label=_("New statements"),
        choices=Moderation.choices,
        initial=Moderation.POST,
        widget=forms.RadioSelect,
    )
    map_visibility = forms.ChoiceField(
        label=_("Who sees the opinion map"),
        choices=MapVisibility.choices,
        initial=MapVisibility.PARTICIPANTS,
        widget=forms.RadioSelect,
    )
    engine_mode = forms.ChoiceField(
        label=_("How the map is computed"),
        choices=EngineMode.choices,
        initial=EngineMode.IMPROVED,
        widget=forms.RadioSelect,
        help_text=_(
            "Pol.is-faithful gives the groups Pol.is would show, for comparison with "
            "earlier Pol.is conversations; the improved method is steadier."
        ),
    )
    closes_at = forms.DateTimeField(
        label=_("Closes at (UTC)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty to close it by hand."),
    )

    def settings(self) -> ConversationSettings:
        data = self.cleaned_data
        return ConversationSettings(
            question=data.get("question") or "",
            context=data.get("context") or "",
            participation=data["participation"],
            statement_policy=data["statement_policy"],
            moderation=data["moderation"],
            map_visibility=data["map_visibility"],
            engine_mode=data["engine_mode"],
            closes_at=data.get("closes_at"),
        )


class NewConversationForm(SettingsForm):
    seeds = forms.CharField(
        label=_("Seed statements"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "One statement per line; participants see these first. Short, one idea "
            "each, something people can agree or disagree with."
        ),
    )

    def seed_lines(self) -> list[str]:
        lines = [
            line.strip() for line in self.cleaned_data.get("seeds", "").splitlines()
        ]
        return [line for line in lines if line][:MAX_SEEDS]


class StatementForm(forms.Form):
    text = forms.CharField(
        label=_("Your statement"),
        max_length=STATEMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": STATEMENT_MAX_LENGTH}),
        help_text=_(
            "One idea that others can agree or disagree with, at most %(max)d "
            "characters. Not a question or a reply."
        )
        % {"max": STATEMENT_MAX_LENGTH},
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=REASON_MAX_LENGTH, required=False
    )


class ImportForm(SettingsForm):
    """The four files of a Pol.is openData export (votes.csv or participants-votes.csv
    at least one), and the settings of the new conversation."""

    comments = forms.FileField(label=_("comments.csv"))
    votes = forms.FileField(label=_("votes.csv"), required=False)
    participants_votes = forms.FileField(
        label=_("participants-votes.csv"), required=False
    )
    summary = forms.FileField(label=_("summary.csv"), required=False)

    FILE_NAMES = {
        "comments": "comments.csv",
        "votes": "votes.csv",
        "participants_votes": "participants-votes.csv",
        "summary": "summary.csv",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        question = self.fields["question"]
        question.required = False
        question.help_text = _("Leave empty to use the topic of the export.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("votes") and not data.get("participants_votes"):
            raise forms.ValidationError(
                _("Add votes.csv (or at least participants-votes.csv).")
            )
        for name in self.FILE_NAMES:
            upload = data.get(name)
            if upload is not None and upload.size > IMPORT_MAX_BYTES:
                self.add_error(name, _("This file is too large (at most 20 MB)."))
        return data
