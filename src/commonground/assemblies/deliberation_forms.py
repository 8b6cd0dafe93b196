"""Forms of the panel's deliberation: sessions (with speakers), recommendations, the
panel's vote and sending a recommendation to the membership.

Dates are typed in the member's own time zone (the middleware activates it) and
stored aware; pages show them back in each reader's zone.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models.deliberation import MATERIALS_MAX_LENGTH, RECOMMENDATION_TEXT_MAX_LENGTH
from .services import deliberation as panel_services

LOCAL_TIME = forms.DateTimeInput(
    attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
)
SPEAKER_ROWS = 4


class SessionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    starts_at = forms.DateTimeField(
        label=_("Starts (your time zone)"), widget=LOCAL_TIME
    )
    ends_at = forms.DateTimeField(label=_("Ends (your time zone)"), widget=LOCAL_TIME)
    place = forms.CharField(label=_("Place"), max_length=300, required=False)
    online_url = forms.URLField(
        label=_("Online meeting link"),
        required=False,
        assume_scheme="https",
        help_text=_("Shown to the panel and organisers only."),
    )
    materials = forms.CharField(
        label=_("Materials"),
        required=False,
        max_length=MATERIALS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Markdown: headings, lists, links and emphasis."),
    )
    materials_public = forms.BooleanField(
        label=_("Publish the materials (anyone may read them)"), required=False
    )
    speakers = forms.CharField(
        label=_("Expert speakers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": SPEAKER_ROWS}),
        help_text=_(
            "One per line: name | role | a short summary of what they will say."
        ),
    )

    def clean_speakers(self) -> list[panel_services.SpeakerSpec]:
        speakers = []
        for line in self.cleaned_data["speakers"].splitlines():
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|", 2)]
            parts += [""] * (3 - len(parts))
            if not parts[0]:
                raise forms.ValidationError(_("Every speaker needs a name."))
            if len(parts[0]) > 200 or len(parts[1]) > 200 or len(parts[2]) > 2000:
                raise forms.ValidationError(_("A speaker's line is too long."))
            speakers.append(
                panel_services.SpeakerSpec(
                    name=parts[0], role=parts[1], summary=parts[2]
                )
            )
        return speakers

    def spec(self) -> panel_services.SessionSpec:
        data = self.cleaned_data
        return panel_services.SessionSpec(
            title=data["title"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            place=data["place"],
            online_url=data["online_url"],
            materials=data["materials"],
            materials_public=data["materials_public"],
            speakers=data["speakers"],
        )

    @staticmethod
    def initial_for(session: Any) -> dict[str, Any]:
        return {
            "title": session.title,
            "starts_at": session.starts_at,
            "ends_at": session.ends_at,
            "place": session.place,
            "online_url": session.online_url,
            "materials": session.materials,
            "materials_public": session.materials_public,
            "speakers": "\n".join(
                f"{s.name} | {s.role} | {s.summary}" for s in session.speakers.all()
            ),
        }


class RecommendationForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(
        label=_("What the panel recommends"),
        max_length=RECOMMENDATION_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Markdown: headings, lists, links and emphasis."),
    )


class PanelVoteOpenForm(forms.Form):
    closes_at = forms.DateTimeField(
        label=_("Voting closes (your time zone)"), widget=LOCAL_TIME
    )


class PanelBallotForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Your vote"),
        choices=[
            ("yes", _("Yes, adopt it")),
            ("no", _("No")),
            ("abstain", _("Abstain")),
        ],
        widget=forms.RadioSelect,
    )


class SendForm(forms.Form):
    AS_PROPOSAL = "proposal"
    AS_BALLOT = "ballot"
    send_as = forms.ChoiceField(
        label=_("Send it to the whole membership as"),
        choices=[
            (AS_PROPOSAL, _("a proposal (members discuss, support and amend it)")),
            (AS_BALLOT, _("a ballot (members vote yes or no now)")),
        ],
        widget=forms.RadioSelect,
        initial=AS_PROPOSAL,
    )
    closes_at = forms.DateTimeField(
        label=_("The ballot closes (your time zone)"),
        widget=LOCAL_TIME,
        required=False,
        help_text=_("Only for a ballot."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("send_as") == self.AS_BALLOT and not data.get("closes_at"):
            self.add_error("closes_at", _("Say when the ballot closes."))
        return data
