from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries import countries

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import ApplicantProfile, User, normalize_phone, validate_phone
from medexchange.catalog.choices import Cefr, TrainingLevel
from medexchange.catalog.models import Specialty
from medexchange.common.languages import language_choices
from medexchange.common.timezones import TIME_ZONE_CHOICES
from medexchange.network.models import CountryProfile, Institution


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "preferred_language", "time_zone"]


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=InstitutionRoleKind.choices)

    def clean_email(self) -> Any:
        return self.cleaned_data["email"].strip().lower()


class PhoneField(forms.CharField):
    """A phone number, stored in E.164 form whatever spaces, dashes or brackets were typed."""

    default_validators = [validate_phone]

    def __init__(self, *, autocomplete: str = "tel", **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)  # typed form; the stored one is at most 16
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        assert isinstance(self.widget, forms.TextInput)  # noqa: S101 - CharField's default
        self.widget.input_type = "tel"
        self.widget.attrs.update({"autocomplete": autocomplete, "inputmode": "tel"})

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        return normalize_phone(value) if value else value


def _model_help(name: str) -> Any:
    return cast("models.Field[Any, Any]", ApplicantProfile._meta.get_field(name)).help_text


def institution_choices(current: Institution | None = None) -> list[Any]:
    """Member institutions grouped by country, countries and names in alphabetical order.

    ``current`` (the saved choice) is offered even after it left the network, so saving
    the page again does not lose it.
    """
    institutions = list(
        Institution.objects.members().select_related("country").only("name", "country__code")
    )
    if current is not None and current.pk not in {institution.pk for institution in institutions}:
        institutions.append(current)
    groups: dict[str, list[tuple[str, str]]] = {}
    for institution in sorted(
        institutions, key=lambda item: (str(item.country.code.name), item.name.casefold())
    ):
        groups.setdefault(str(institution.country.code.name), []).append(
            (str(institution.pk), institution.name)
        )
    return [("", _("Not in the list")), *groups.items()]


class ApplicantProfileForm(forms.Form):
    """The applicant profile, with a few rows of language + CEFR level; no JavaScript.

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
        help_text=_model_help("training_year"),
    )
    home_country = forms.ChoiceField(
        label=_("Home country"),
        required=False,
        help_text=_("The country where you train or work."),
    )
    home_institution = forms.ChoiceField(
        label=_("Home institution"),
        required=False,
        help_text=_("Member institutions of the network, by country."),
        error_messages={
            "invalid_choice": _(
                "This institution is not a member of the network. Choose one from the list, "
                "or choose “Not in the list” and type its name below."
            )
        },
    )
    home_institution_name = forms.CharField(
        label=_("Home institution, if not in the list"),
        max_length=200,
        required=False,
        help_text=_model_help("home_institution_name"),
    )
    nationality = forms.ChoiceField(
        label=_("Nationality"),
        required=False,
        help_text=_model_help("nationality"),
    )
    specialty_interests = forms.ModelMultipleChoiceField(
        label=_("Specialty interests"),
        queryset=Specialty.objects.all(),
        to_field_name="code",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("%(value)s is not a specialty on the list.")},
    )
    phone = PhoneField(label=_("Phone"), help_text=_model_help("phone"))
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=TIME_ZONE_CHOICES,
        help_text=_("Dates and times are shown to you in this time zone."),
    )
    emergency_contact_name = forms.CharField(
        label=_("Name"),
        max_length=200,
        required=False,
        widget=forms.TextInput({"autocomplete": "off"}),
    )
    emergency_contact_relationship = forms.CharField(
        label=_("Relationship to you"),
        max_length=100,
        required=False,
        help_text=_model_help("emergency_contact_relationship"),
    )
    emergency_contact_phone = PhoneField(
        label=_("Phone"),
        help_text=_model_help("emergency_contact_phone"),
        autocomplete="off",  # not the browser's idea of the person's own number
    )

    def __init__(
        self,
        *args: Any,
        user: User,
        profile: ApplicantProfile | None = None,
        **kwargs: Any,
    ):
        if "initial" not in kwargs:
            kwargs["initial"] = {"time_zone": user.time_zone}
            if profile is not None:
                kwargs["initial"] |= self._initial_from(profile)
        super().__init__(*args, **kwargs)
        self._current_institution = profile.home_institution if profile is not None else None
        country_choices = [("", _("Not set")), *countries]
        for name in ("home_country", "nationality"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
            field.choices = country_choices
        home_institution = self.fields["home_institution"]
        assert isinstance(home_institution, forms.ChoiceField)  # noqa: S101 - declared above
        home_institution.choices = institution_choices(self._current_institution)
        self._add_language_rows(len(profile.languages) if profile is not None else 0)

    @staticmethod
    def _initial_from(profile: ApplicantProfile) -> dict[str, Any]:
        def code(country: CountryProfile | None) -> str:
            return str(country.code) if country is not None else ""

        return {
            "training_level": profile.training_level,
            "training_year": profile.training_year,
            "home_country": code(profile.home_country),
            "home_institution": str(profile.home_institution_id or ""),
            "home_institution_name": profile.home_institution_name,
            "nationality": code(profile.nationality),
            "specialty_interests": [
                specialty.code for specialty in profile.specialty_interests.all()
            ],
            "phone": profile.phone,
            "emergency_contact_name": profile.emergency_contact_name,
            "emergency_contact_relationship": profile.emergency_contact_relationship,
            "emergency_contact_phone": profile.emergency_contact_phone,
            **{f"language_{index}": item["code"] for index, item in enumerate(profile.languages)},
            **{f"level_{index}": item["level"] for index, item in enumerate(profile.languages)},
        }

    def _add_language_rows(self, filled: int) -> None:
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

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The fields other than languages, in groups with a legend each."""
        groups = (
            (_("Training"), ("training_level", "training_year", "specialty_interests")),
            (
                pgettext_lazy("where an applicant comes from", "Home"),
                ("home_country", "home_institution", "home_institution_name", "nationality"),
            ),
            (_("Contact"), ("phone", "time_zone")),
            (
                _("Emergency contact"),
                (
                    "emergency_contact_name",
                    "emergency_contact_relationship",
                    "emergency_contact_phone",
                ),
            ),
        )
        return [(str(legend), [self[name] for name in names]) for legend, names in groups]

    def _country(self, data: dict[str, Any], name: str) -> CountryProfile | None:
        code = data.get(name)
        country = CountryProfile.objects.filter(code=code).first() if code else None
        if code and country is None:
            self.add_error(name, _("This country is not in the directory yet."))
        return country

    def _institution(self, data: dict[str, Any]) -> Institution | None:
        """The chosen institution; the choices already limit it to members (or the saved one)."""
        pk = data.get("home_institution")
        if not pk:
            return None
        current = self._current_institution
        if current is not None and str(current.pk) == pk:
            return current
        institution = Institution.objects.members().filter(pk=pk).first()
        if institution is None:  # left the network while the page was open
            self.add_error(
                "home_institution", _("This institution is not a member of the network.")
            )
        return institution

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
        home_institution = self._institution(data)
        home_institution_name = (data.get("home_institution_name") or "").strip()
        if home_institution is not None and home_institution_name:
            self.add_error(
                "home_institution_name",
                _("Choose your institution from the list or type its name, not both."),
            )
        return {
            "training_level": data.get("training_level") or "",
            "training_year": data.get("training_year"),
            "home_country": self._country(data, "home_country"),
            "home_institution": home_institution,
            "home_institution_name": home_institution_name,
            "nationality": self._country(data, "nationality"),
            "specialty_interests": list(data.get("specialty_interests") or []),
            "phone": data.get("phone") or "",
            "emergency_contact_name": (data.get("emergency_contact_name") or "").strip(),
            "emergency_contact_relationship": (
                data.get("emergency_contact_relationship") or ""
            ).strip(),
            "emergency_contact_phone": data.get("emergency_contact_phone") or "",
            "time_zone": data.get("time_zone") or self.initial.get("time_zone"),
            "languages": languages,
        }
