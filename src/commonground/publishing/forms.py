"""Forms for writing, reviewing and publishing articles, pictures, bylines, search."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import calls_to_action

from .models import (
    ALT_MAX_LENGTH,
    BIO_MAX_LENGTH,
    BODY_MAX_LENGTH,
    CORRECTION_MAX_LENGTH,
    STANDFIRST_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Article,
    ArticleImage,
)


class ArticleForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Format"),
        choices=Article.Kind.choices,
        widget=forms.RadioSelect,
        initial=Article.Kind.ARTICLE,
    )
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH)
    standfirst = forms.CharField(
        label=_("Standfirst"),
        max_length=STANDFIRST_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One or two sentences under the title: what the article says."),
    )
    interviewee = forms.CharField(
        label=_("Who is interviewed"),
        max_length=120,
        required=False,
        help_text=_("For an interview: the name shown before each answer."),
    )
    body = forms.CharField(
        label=_("Text"),
        max_length=BODY_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 18}),
        help_text=_(
            "Markdown: ## Heading, > quote, *italic*, **bold**, [link](https://…). "
            "Show an uploaded picture with the line it gives you, like "
            "![A march in Leeds](image:12). In an interview, start each question "
            "with Q: and each answer with A:."
        ),
    )
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=500,
        help_text=_("Separated by commas, e.g. Housing, Leeds."),
    )
    call_to_action = forms.ChoiceField(
        label=_("At the end of the article"), required=False
    )
    lead_image = forms.ModelChoiceField(
        label=_("Picture shown in lists and when shared"),
        queryset=ArticleImage.objects.none(),
        required=False,
    )
    comments_open = forms.BooleanField(label=_("Readers may comment"), required=False)
    visitors_may_comment = forms.BooleanField(
        label=_("Visitors without an account may comment (after confirming by email)"),
        required=False,
    )

    def __init__(
        self, *args: Any, article: Article | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cta_field = self.fields["call_to_action"]
        assert isinstance(cta_field, forms.ChoiceField)
        cta_field.choices = [("", _("Nothing"))] + [
            (key, cta.label) for key, cta in calls_to_action().items()
        ]
        if article is None:
            del self.fields["lead_image"]
        else:
            image_field = self.fields["lead_image"]
            assert isinstance(image_field, forms.ModelChoiceField)
            image_field.queryset = ArticleImage.objects.filter(article=article)

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["tags"] = [
            name for name in data.get("tags", "").split(",") if name.strip()
        ]
        return data


def article_initial(article: Article) -> dict[str, Any]:
    return {
        "kind": article.kind,
        "title": article.title,
        "standfirst": article.standfirst,
        "interviewee": article.interviewee,
        "body": article.body,
        "tags": ", ".join(tag.name for tag in article.tags.all()),
        "call_to_action": article.call_to_action,
        "lead_image": article.lead_image_id,
        "comments_open": article.comments_open,
        "visitors_may_comment": article.visitors_may_comment,
    }


class ImageForm(forms.Form):
    # A plain file field: the content is checked by publishing.images, not by name.
    image = forms.FileField(
        label=_("Picture"),
        help_text=_(
            "PNG, JPEG or WebP, up to 8 MB. Location and camera data are removed."
        ),
    )
    alt = forms.CharField(
        label=_("What it shows"),
        max_length=ALT_MAX_LENGTH,
        help_text=_("Read out to people who cannot see it. Required."),
    )
    caption = forms.CharField(
        label=_("Caption"),
        max_length=300,
        required=False,
        help_text=_("Shown under the picture (credit the photographer here)."),
    )


class PublishForm(forms.Form):
    publish_at = forms.DateTimeField(
        label=_("Publish on"),
        required=False,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
        help_text=_("In your time zone. Leave empty to publish now."),
    )
    correction = forms.CharField(
        label=_("Correction note"),
        max_length=CORRECTION_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Only if this version corrects an error: say what was wrong. Readers see "
            "it on the article."
        ),
    )


class RequestChangesForm(forms.Form):
    note = forms.CharField(
        label=_("What should change"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is withdrawn (readers see this)"), max_length=2000
    )


class PolicyForm(forms.Form):
    review_required = forms.BooleanField(
        label=_("An editor reviews every article before it is published"),
        required=False,
    )


class BioForm(forms.Form):
    bio = forms.CharField(
        label=_("Short bio"),
        max_length=BIO_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shown under your name on your articles and your author page."),
    )


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search articles"), max_length=200, required=False)
