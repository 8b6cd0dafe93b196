"""Forms for comments, replies, reports and moderation reasons."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import BODY_MAX_LENGTH, REASON_MAX_LENGTH


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


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=REASON_MAX_LENGTH, required=False
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)
