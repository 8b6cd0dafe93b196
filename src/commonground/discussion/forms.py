"""Forms for comments, replies, reports and moderation reasons."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import (
    BODY_MAX_LENGTH,
    REASON_MAX_LENGTH,
    VISITOR_NAME_MAX_LENGTH,
    HouseRule,
)


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your comment"),
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Markdown works: *italic*, **bold**, [link](https://example.org), lists."
        ),
        error_messages={"required": _("Write something before posting.")},
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)


class VisitorCommentForm(CommentForm):
    """A comment from someone without an account: a name shown with it, an address
    that is never shown, and a field people leave empty (robots fill it in)."""

    name = forms.CharField(label=_("Your name"), max_length=VISITOR_NAME_MAX_LENGTH)
    email = forms.EmailField(label=_("Your email address"), max_length=254)
    notify_replies = forms.BooleanField(
        label=_("Email me when someone replies"), required=False
    )
    # The honeypot: hidden from people (and from assistive technology), not robots.
    website = forms.CharField(required=False, max_length=200)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=REASON_MAX_LENGTH, required=False
    )
    rule = forms.ChoiceField(
        label=_("Rule broken"),
        choices=[("", "")] + list(HouseRule.choices),
        required=False,
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)


class VisitorDataForm(forms.Form):
    email = forms.EmailField(label=_("The email address you commented with"))
