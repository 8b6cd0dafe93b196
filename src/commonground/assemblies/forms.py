"""Forms of the assemblies app: settings, quotas (entered or imported), the
registration form, the random number, and small reason forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import (
    Algorithm,
    Assembly,
    Feature,
    Kind,
    Recruitment,
)
from .models.assembly import (
    DESCRIPTION_MAX_LENGTH,
    QUESTION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)
from .services import AssemblySettings, CategorySpec, FeatureSpec

QUOTAS_HELP = _(
    "One line per feature value: feature key, value key, minimum, maximum, and "
    "optionally the feature's label and the value's label, separated by commas. "
    "For example: age,16-29,4,6,Age,16 to 29"
)


def _when(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("In your time zone."),
    )


class AssemblyForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH)
    slug = forms.SlugField(
        label=_("Short address"),
        max_length=80,
        required=False,
        help_text=_("Letters, digits and hyphens; made from the title if left blank."),
    )
    question = forms.CharField(
        label=_("Question the assembly answers"), max_length=QUESTION_MAX_LENGTH
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What the assembly is for and how it works, in Markdown."),
    )
    panel_size = forms.IntegerField(label=_("Seats on the panel"), min_value=1)
    kind = forms.ChoiceField(
        label=_("Kind of assembly"), choices=Kind.choices, widget=forms.RadioSelect
    )
    recruitment = forms.ChoiceField(
        label=_("Recruitment"), choices=Recruitment.choices, widget=forms.RadioSelect
    )
    invitation_size = forms.IntegerField(
        label=_("Members to invite"),
        min_value=0,
        required=False,
        help_text=_("Only for an invitation of a random sample of members."),
    )
    one_per_household = forms.BooleanField(
        label=_("At most one person per household on the panel"), required=False
    )
    exclusions = forms.CharField(
        label=_("Who may not register"),
        required=False,
        max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One rule per line, shown on the registration page."),
    )
    recruitment_closes_at = _when(_("Recruitment closes at"))
    draw_at = _when(_("Public draw at"))
    deliberation_starts_at = _when(_("Deliberation starts at"))
    deliberation_ends_at = _when(_("Deliberation ends at"))
    algorithm = forms.ChoiceField(
        label=_("Selection algorithm"),
        choices=Algorithm.choices,
        widget=forms.RadioSelect,
        initial=Algorithm.LEXIMIN,
    )
    seed_source = forms.CharField(
        label=_("Where the public random number will come from"),
        required=False,
        max_length=1_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Announced before the draw: for example, three ten-sided dice rolled at "
            "the public meeting."
        ),
    )

    def settings(self) -> AssemblySettings:
        data = self.cleaned_data
        return AssemblySettings(
            title=data["title"],
            slug=data.get("slug") or "",
            question=data["question"],
            description=data.get("description") or "",
            panel_size=data["panel_size"],
            kind=data["kind"],
            recruitment=data["recruitment"],
            invitation_size=data.get("invitation_size") or 0,
            one_per_household=bool(data.get("one_per_household")),
            exclusions=data.get("exclusions") or "",
            recruitment_closes_at=data.get("recruitment_closes_at"),
            draw_at=data.get("draw_at"),
            deliberation_starts_at=data.get("deliberation_starts_at"),
            deliberation_ends_at=data.get("deliberation_ends_at"),
            algorithm=data["algorithm"],
            seed_source=data.get("seed_source") or "",
        )

    @staticmethod
    def initial_for(assembly: Assembly) -> dict[str, Any]:
        from .services import SETTING_NAMES

        return {name: getattr(assembly, name) for name in SETTING_NAMES}


class QuotasForm(forms.Form):
    quotas = forms.CharField(
        label=_("Quotas"),
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text=QUOTAS_HELP,
    )

    @staticmethod
    def text_for(features: list[Feature]) -> str:
        return "\n".join(
            f"{f.key},{c.value},{c.minimum},{c.maximum},{f.label},{c.label}"
            for f in features
            for c in f.categories.all()
        )

    def clean_quotas(self) -> list[FeatureSpec]:
        specs: dict[str, tuple[str, list[CategorySpec]]] = {}
        for number, line in enumerate(self.cleaned_data["quotas"].splitlines(), 1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split(",")]
            if len(parts) < 4:
                raise forms.ValidationError(
                    _("Line %(line)d: give at least key, value, minimum and maximum.")
                    % {"line": number}
                )
            try:
                low, high = int(parts[2]), int(parts[3])
            except ValueError:
                raise forms.ValidationError(
                    _("Line %(line)d: the minimum and maximum must be whole numbers.")
                    % {"line": number}
                ) from None
            key, value = parts[0], parts[1]
            feature_label = parts[4] if len(parts) > 4 and parts[4] else key
            value_label = ",".join(parts[5:]) if len(parts) > 5 else value
            entry = specs.setdefault(key, (feature_label, []))
            entry[1].append(CategorySpec(value, value_label or value, low, high))
        return [
            FeatureSpec(key, label, tuple(categories))
            for key, (label, categories) in specs.items()
        ]


class SharesForm(forms.Form):
    shares = forms.FileField(
        label=_("CSV of population shares"),
        help_text=_(
            "Columns feature, value, share (a percentage or a fraction), and "
            "optionally feature_label and value_label."
        ),
    )


class RandomNumberForm(forms.Form):
    random_number = forms.CharField(
        label=_("Public random number"),
        max_length=250,
        help_text=_("Digits only, as read out at the public draw."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class SeedForm(forms.Form):
    seed = forms.CharField(
        label=_("Published seed of the invitation sample"),
        max_length=200,
        help_text=_(
            "Announce it first (for example, a lottery result of a given day)."
        ),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class RegistrationForm(forms.Form):
    """Name, address, one question per feature, consents; ``website`` is a honeypot
    (hidden from people, left empty by them)."""

    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Your email address"))
    address = forms.CharField(
        label=_("Postcode and street address"),
        max_length=200,
        required=False,
        help_text=_("Only to keep to one person per household; never published."),
    )
    consent_to_draw = forms.BooleanField(
        label=_(
            "I agree to be in the pool and, if drawn, to be asked to join the panel."
        ),
        required=False,
    )
    consent_publish_name = forms.BooleanField(
        label=_("If I am drawn, my name may be published in the list of the panel."),
        required=False,
    )
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(
        self,
        *args: Any,
        features: list[Feature],
        signed_in: bool,
        households: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.feature_keys: list[tuple[str, str]] = []
        for feature in features:
            name = f"feature_{feature.key}"
            self.feature_keys.append((name, feature.key))
            self.fields[name] = forms.ChoiceField(
                label=feature.label,
                choices=[(c.value, c.label) for c in feature.categories.all()],
                widget=forms.RadioSelect,
            )
        self.order_fields(
            ["name", "email", "address"]
            + [name for name, _key in self.feature_keys]
            + ["consent_to_draw", "consent_publish_name"]
        )
        if signed_in:
            del self.fields["email"]
        if not households:
            del self.fields["address"]
        else:
            self.fields["address"].required = True

    def features(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(name, "") for name, key in self.feature_keys}

    def visible_fields_in_order(self) -> list[Any]:
        return [self[name] for name in self.fields if name != "website"]
