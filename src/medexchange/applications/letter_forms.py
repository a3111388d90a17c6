"""Forms of letters (kept apart from ``forms.py``, which the review pages share)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from medexchange.applications.letters import BODY_MAX_LENGTH, normalise_code
from medexchange.applications.models import LetterTemplate


class LetterTemplateForm(forms.Form):
    """The host's wording of one kind of letter; the service checks the placeholders."""

    body = forms.CharField(
        label=_("Text"),
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=LetterTemplate._meta.get_field("body").help_text,
    )
    signatory_name = forms.CharField(label=_("Signed by"), max_length=200)
    signatory_title = forms.CharField(
        label=_("Title of the signatory"), max_length=200, required=False
    )


class VerifyLetterForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=40,
        help_text=_("The code printed at the foot of the letter. Case and spaces do not matter."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_code(self) -> str:
        code = normalise_code(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError(_("Type the code printed on the letter."))
        return code

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs["autocapitalize"] = "characters"
