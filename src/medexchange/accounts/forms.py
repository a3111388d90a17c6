from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import User


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "preferred_language", "time_zone"]


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=InstitutionRoleKind.choices)

    def clean_email(self) -> Any:
        return self.cleaned_data["email"].strip().lower()
