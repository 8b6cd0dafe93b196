"""Forms for organiser tools (reasons, roles, group settings) and the member's profile."""

from __future__ import annotations

from django import forms

from .models import Group, Role, User


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded in the group's public audit log.",
    )


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason (optional)",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RoleAssignForm(forms.Form):
    user = forms.ModelChoiceField(label="Member", queryset=User.objects.none())
    role = forms.ChoiceField(
        label="Role",
        choices=[
            (value, label) for value, label in Role.choices if value != Role.MEMBER
        ],
    )
    reason = forms.CharField(label="Reason (optional)", max_length=2000, required=False)

    def __init__(self, *args, members=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            members if members is not None else User.objects.none()
        )
        self.fields["user"].label_from_instance = lambda user: user.public_name  # type: ignore[attr-defined]


class GroupSettingsForm(forms.Form):
    description = forms.CharField(
        label="Description",
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    join_policy = forms.ChoiceField(
        label="How people join", choices=Group.JoinPolicy.choices
    )
    is_public = forms.BooleanField(
        label="Anyone can see this group's page", required=False
    )


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "visibility"]
        labels = {"display_name": "Your name as other members see it"}
        widgets = {"visibility": forms.RadioSelect}


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label="I understand that my account is anonymised and cannot be restored"
    )

    def __init__(self, *args, user=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if self.user is None or not self.user.check_password(password):
            raise forms.ValidationError("This is not your current password.")
        return password


class SignupDetailsForm(forms.Form):
    """Extra sign-up field (allauth ACCOUNT_SIGNUP_FORM_CLASS)."""

    display_name = forms.CharField(
        label="Your name as other members see it",
        max_length=80,
        help_text="You can hide it from member lists later. Your email is never shown.",
    )

    def signup(self, request, user):  # type: ignore[no-untyped-def]
        user.display_name = self.cleaned_data["display_name"].strip()
        user.save(update_fields=["display_name"])
