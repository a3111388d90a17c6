from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import ApplicantProfile, User
from medexchange.catalog.choices import Cefr, TrainingLevel
from medexchange.common.languages import language_choices
from medexchange.network.models import CountryProfile


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "preferred_language", "time_zone"]


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=InstitutionRoleKind.choices)

    def clean_email(self) -> Any:
        return self.cleaned_data["email"].strip().lower()


class ApplicantProfileForm(forms.Form):
    """The applicant profile, with a few rows of language + CEFR level.

    ``cleaned_data`` holds the values ``services.applicant_profile_update`` takes.
    """

    #: Empty language rows offered below the ones already filled in.
    EXTRA_LANGUAGE_ROWS = 2
    MIN_LANGUAGE_ROWS = 3
    MAX_LANGUAGE_ROWS = 20

    training_level = forms.ChoiceField(
        label=_("Training level"),
        choices=[("", _("Not set")), *TrainingLevel.choices],
        required=False,
    )
    training_year = forms.IntegerField(
        label=_("Year of training"),
        min_value=1,
        max_value=10,
        required=False,
        help_text=ApplicantProfile._meta.get_field("training_year").help_text,
    )
    home_country = forms.ChoiceField(
        label=_("Home country"),
        required=False,
        help_text=_("The country where you train or work."),
    )

    def __init__(self, *args: Any, profile: ApplicantProfile | None = None, **kwargs: Any):
        if profile is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "training_level": profile.training_level,
                "training_year": profile.training_year,
                "home_country": str(profile.home_country.code) if profile.home_country else "",
                **{
                    f"language_{index}": item["code"]
                    for index, item in enumerate(profile.languages)
                },
                **{f"level_{index}": item["level"] for index, item in enumerate(profile.languages)},
            }
        super().__init__(*args, **kwargs)
        home_country = self.fields["home_country"]
        assert isinstance(home_country, forms.ChoiceField)  # noqa: S101 - declared above
        home_country.choices = [("", _("Not set")), *countries]
        filled = len(profile.languages) if profile is not None else 0
        rows = max(self.MIN_LANGUAGE_ROWS, filled + self.EXTRA_LANGUAGE_ROWS)
        if self.is_bound:  # read every row the person sent (up to a sane maximum)
            sent = [
                key.removeprefix("language_") for key in self.data if key.startswith("language_")
            ]
            rows = max([rows] + [int(index) + 1 for index in sent if index.isdigit()])
        self.language_rows = min(rows, self.MAX_LANGUAGE_ROWS)
        choices = [("", _("Choose a language")), *language_choices()]
        for index in range(self.language_rows):
            self.fields[f"language_{index}"] = forms.ChoiceField(
                label=_("Language %(number)s") % {"number": index + 1},
                choices=choices,
                required=False,
            )
            self.fields[f"level_{index}"] = forms.ChoiceField(
                label=_("Level (CEFR) of language %(number)s") % {"number": index + 1},
                choices=[("", "—"), *Cefr.choices],
                required=False,
            )

    def language_fields(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"language_{i}"], self[f"level_{i}"]) for i in range(self.language_rows)]

    def other_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("training_level", "training_year", "home_country")]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        languages = []
        seen: set[str] = set()
        for index in range(self.language_rows):
            code = data.get(f"language_{index}")
            level = data.get(f"level_{index}")
            if not code and not level:
                continue
            if not code:
                self.add_error(f"language_{index}", _("Choose the language of this level."))
            elif not level:
                self.add_error(f"level_{index}", _("Choose your level in this language."))
            elif code in seen:
                self.add_error(f"language_{index}", _("This language is already listed."))
            else:
                seen.add(code)
                languages.append({"code": code, "level": level})
        code = data.get("home_country")
        data["home_country"] = CountryProfile.objects.filter(code=code).first() if code else None
        if code and data["home_country"] is None:
            self.add_error("home_country", _("This country is not in the directory yet."))
        return {
            "training_level": data.get("training_level") or "",
            "training_year": data.get("training_year"),
            "home_country": data["home_country"],
            "languages": languages,
        }
