"""Forms of the register pages: the upload, the column mapping, the postcode table."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .columns import FIELDS
from .models import PostcodeRule
from .parsing import accepted_date_formats
from .postcodes import GENERIC_PATTERN
from .reading import column_letter
from .services import max_upload_bytes

DAY_FIRST, MONTH_FIRST = "day", "month"


class RegisterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Register file"),
        help_text=_(
            "A CSV file in UTF-8 (Excel: “CSV UTF-8”) or an Excel workbook (.xlsx; "
            "the first sheet is read). The first row names the columns."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        # Refused before it is read into memory (the service checks the bytes too).
        if upload.size > max_upload_bytes():
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB; split it into several files.")
                % {"mb": max_upload_bytes() // (1024 * 1024)}
            )
        return upload


class ColumnMappingForm(forms.Form):
    """One choice per column of the file, and the rules its values are checked by."""

    postcode_rule = forms.ChoiceField(
        label=_("Which postcodes are valid"),
        choices=PostcodeRule.choices,
        widget=forms.RadioSelect,
    )
    postcode_pattern = forms.CharField(
        label=_("Your own postcode pattern"),
        required=False,
        max_length=200,
        help_text=_(
            "Only for “My own pattern”: a regular expression the whole postcode must "
            "match, such as %(example)s (the default rule)."
        )
        % {"example": GENERIC_PATTERN},
    )
    date_order = forms.ChoiceField(
        label=_("Dates written with slashes"),
        choices=[
            (DAY_FIRST, _("Day first: 03/04/2024 is 3 April 2024")),
            (MONTH_FIRST, _("Month first: 03/04/2024 is 4 March 2024")),
        ],
        widget=forms.RadioSelect,
        help_text=_("Dates such as 2024-04-03 and 03.04.2024 are read either way."),
    )

    def __init__(
        self, *args: Any, headers: list[str], samples: list[list[str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.samples = samples
        for index, header in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=f"{column_letter(index)} · {header}",
                choices=list(FIELDS.items()),
                required=False,
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("postcode_rule") == PostcodeRule.CUSTOM and not data.get(
            "postcode_pattern"
        ):
            self.add_error(
                "postcode_pattern", _("Give the pattern, or choose another rule.")
            )
        return data

    def columns(self) -> list[dict[str, Any]]:
        """Per column: its letter, header, example values and its field."""
        return [
            {
                "letter": column_letter(index),
                "header": header,
                "examples": [row[index] for row in self.samples if index < len(row)],
                "field": self[f"column_{index}"],
            }
            for index, header in enumerate(self.headers)
        ]

    def rules(self) -> dict[str, Any]:
        """The mapping and checking rules, as ``import_mapping_save`` takes them."""
        return {
            "mapping": [
                self.cleaned_data.get(f"column_{index}") or ""
                for index in range(len(self.headers))
            ],
            "postcode_rule": self.cleaned_data["postcode_rule"],
            "postcode_pattern": self.cleaned_data["postcode_pattern"],
            "day_first": self.cleaned_data["date_order"] == DAY_FIRST,
        }

    @staticmethod
    def initial_for(job: Any) -> dict[str, Any]:
        return {
            **{f"column_{i}": key for i, key in enumerate(job.mapping)},
            "postcode_rule": job.postcode_rule,
            "postcode_pattern": job.postcode_pattern,
            "date_order": DAY_FIRST if job.day_first else MONTH_FIRST,
        }

    @staticmethod
    def date_formats(job: Any) -> str:
        return accepted_date_formats(job.day_first)


class PostcodeTableForm(forms.Form):
    file = forms.FileField(
        label=_("Postcode table"),
        help_text=_(
            "A CSV file in UTF-8 with two columns: a postcode prefix (an area such as "
            "LS, a district such as LS6, a sector such as LS6 1, or the first digits "
            "of a zip code) and the branch (its slug or name). A first row naming "
            "the columns is optional."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def content(self) -> bytes:
        return b"".join(self.cleaned_data["file"].chunks())
