"""Forms for organiser tools (reasons, roles, group settings) and the member's profile."""

from __future__ import annotations

import functools
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Group, Role, User, Verification, known_time_zones


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded in the group's public audit log."),
    )


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RoleAssignForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Member"), queryset=User.objects.none())
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[
            (value, label) for value, label in Role.choices if value != Role.MEMBER
        ],
    )
    reason = forms.CharField(
        label=_("Reason (optional)"), max_length=2000, required=False
    )

    def __init__(self, *args, members=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            members if members is not None else User.objects.none()
        )
        self.fields["user"].label_from_instance = lambda user: user.public_name  # type: ignore[attr-defined]


class GroupSettingsForm(forms.Form):
    description = forms.CharField(
        label=_("Description"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    join_policy = forms.ChoiceField(
        label=_("How people join"), choices=Group.JoinPolicy.choices
    )
    is_public = forms.BooleanField(
        label=_("Anyone can see this group's page"), required=False
    )


@functools.cache
def _zone_groups() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """Every known zone, grouped by region ("Europe" -> "Europe/Berlin", ...)."""
    regions: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(known_time_zones()):
        region, _slash, place = name.partition("/")
        if not place:
            region, place = "", name
        regions.setdefault(region, []).append((name, place.replace("_", " ")))
    return tuple((region, tuple(zones)) for region, zones in sorted(regions.items()))


def time_zone_choices() -> list[Any]:
    other = _("Other")
    return [("", _("Not chosen: use my browser's time zone"))] + [
        (region or other, list(zones)) for region, zones in _zone_groups()
    ]


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label=_("Your time zone"),
        required=False,
        choices=time_zone_choices,
        help_text=_("Every date and time on the platform is shown in this zone."),
        error_messages={
            "invalid_choice": _(
                "“%(value)s” is not a time zone we know; choose one from the list."
            )
        },
        widget=forms.Select(attrs={"data-timezone-guess": ""}),
    )

    class Meta:
        model = User
        fields = ["display_name", "visibility", "time_zone"]
        labels = {"display_name": _("Your name as other members see it")}
        widgets = {"visibility": forms.RadioSelect}


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("I understand that my account is anonymised and cannot be restored")
    )

    def __init__(self, *args, user=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if self.user is None or not self.user.check_password(password):
            raise forms.ValidationError(_("This is not your current password."))
        return password


class SignupDetailsForm(forms.Form):
    """Extra sign-up field (allauth ACCOUNT_SIGNUP_FORM_CLASS)."""

    display_name = forms.CharField(
        label=_("Your name as other members see it"),
        max_length=80,
        help_text=_(
            "You can hide it from member lists later. Your email is never shown."
        ),
    )

    def signup(self, request, user):  # type: ignore[no-untyped-def]
        from .middleware import TIME_ZONE_COOKIE

        user.display_name = self.cleaned_data["display_name"].strip()
        # First guess of the member's time zone: the browser's (static/js/timezone.js).
        guessed = request.COOKIES.get(TIME_ZONE_COOKIE, "")
        user.time_zone = guessed if guessed in known_time_zones() else ""
        user.save(update_fields=["display_name", "time_zone"])


class OrganisationBrandingForm(forms.Form):
    """Name, accent colour and logo; the checks themselves live in members.branding."""

    name = forms.CharField(label=_("Name"), max_length=120)
    accent_colour = forms.RegexField(
        label=_("Accent colour"),
        regex=r"^#[0-9a-fA-F]{6}$",
        max_length=7,
        help_text=_(
            "# and six hexadecimal digits, e.g. #0b5c3b. Buttons and the header use "
            "it; it must leave the text on it readable (WCAG AA, 4.5:1)."
        ),
        error_messages={
            "invalid": _(
                "Give the colour as # and six hexadecimal digits, e.g. #0b5c3b."
            )
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "size": 8}
        ),
    )
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_(
            "PNG, JPEG or WebP, up to 2 MB and 4000 × 4000 pixels. It is resized, "
            "and its metadata (such as location) is removed."
        ),
        # Checked by content, not by this hint (members.branding.logo_prepare).
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)

    def clean_accent_colour(self) -> str:
        from .branding import accent_check

        return accent_check(self.cleaned_data["accent_colour"]).colour


class GroupCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    slug = forms.SlugField(
        label=_("Web address"),
        max_length=60,
        help_text=_("Lower-case letters, digits and hyphens: /groups/leeds-north/."),
    )
    kind = forms.ChoiceField(label=_("Kind of group"), choices=Group.Kind.choices)
    join_policy = forms.ChoiceField(
        label=_("How people join"), choices=Group.JoinPolicy.choices
    )
    is_public = forms.BooleanField(
        label=_("Anyone can see this group's page"), required=False, initial=True
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class GroupRenameForm(forms.Form):
    name = forms.CharField(label=_("New name"), max_length=120)


class GroupMoveForm(forms.Form):
    parent = forms.ModelChoiceField(
        label=_("Put it under"), queryset=Group.objects.none(), empty_label=None
    )

    def __init__(self, *args, parents=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        field = self.fields["parent"]
        field.queryset = parents if parents is not None else Group.objects.none()  # type: ignore[attr-defined]
        field.label_from_instance = lambda group: (  # type: ignore[attr-defined]
            "— " * group.depth + group.name
        )


class GroupTreeForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file of groups"),
        help_text=_(
            "Columns path, kind and name (description, join_policy and public "
            "optional); one group per row, e.g. north/leeds,branch,Leeds."
        ),
    )
    apply = forms.BooleanField(
        label=_("Create the groups now (leave unticked for a dry run)"),
        required=False,
    )


class SetupForm(forms.Form):
    """The first run: the first administrator and the first organisation."""

    setup_token = forms.CharField(
        label=_("Set-up token"),
        required=False,
        help_text=_("The value of COMMONGROUND_SETUP_TOKEN on the server."),
        widget=forms.PasswordInput,
    )
    name = forms.CharField(label=_("Your name"), max_length=80)
    email = forms.EmailField(label=_("Your email address"))
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters."),
    )
    organisation = forms.CharField(label=_("Your organisation's name"), max_length=120)
    slug = forms.SlugField(
        label=_("Its web address"),
        max_length=60,
        help_text=_("Lower-case letters, digits and hyphens, e.g. northern-people."),
    )


class ClaimForm(forms.Form):
    password = forms.CharField(
        label=_("Choose a password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters."),
    )
    password_again = forms.CharField(
        label=_("The same password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


class VerificationMethodForm(forms.Form):
    method = forms.ChoiceField(
        label=_("How members are verified before they vote"),
        choices=Verification.choices,
        widget=forms.RadioSelect,
    )


class VerificationCodeForm(forms.Form):
    code = forms.CharField(
        label=_("The code in your letter"),
        max_length=20,
        help_text=_("Ten letters and digits, as printed, e.g. ABCDE-23456."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )
