"""Host-side forms of the catalog: they parse input; the services validate and save."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medexchange.catalog.choices import (
    Cefr,
    DocumentKind,
    Immunisation,
    Recurrence,
    TrainingLevel,
)
from medexchange.catalog.models import Opportunity, Session, Specialty
from medexchange.catalog.services import MAX_GENERATED_SESSIONS, OPPORTUNITY_EDITABLE_FIELDS
from medexchange.common.languages import language_choices
from medexchange.network.models import CountryProfile, Institution, Site

LANGUAGE_ROWS = 4
IMPORT_MAX_BYTES = 2 * 1024 * 1024


def _blank_language_choices() -> list[tuple[str, str]]:
    return [("", "—"), *language_choices()]


class CountryMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class SiteMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class OpportunityForm(forms.ModelForm):
    """Everything about an opportunity; languages are entered as up to four rows."""

    sites = SiteMultipleChoiceField(
        label=_("Sites"),
        queryset=Site.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Where participants work; for a multi-site program, tick every site."),
    )
    training_levels = forms.MultipleChoiceField(
        label=_("Training levels accepted"),
        choices=TrainingLevel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any level."),
    )
    eligible_countries = CountryMultipleChoiceField(
        label=_("Eligible countries"),
        queryset=CountryProfile.objects.all(),
        to_field_name="code",
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Used with “only applicants from the listed countries”."),
    )
    required_documents = forms.MultipleChoiceField(
        label=_("Required documents"),
        choices=DocumentKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    required_immunisations = forms.MultipleChoiceField(
        label=_("Required immunisations"),
        choices=Immunisation.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Opportunity
        # The services' editable fields; languages have their own rows, the slug is derived.
        fields = [
            *(name for name in OPPORTUNITY_EDITABLE_FIELDS if name not in {"slug", "languages"}),
            "sites",
            "eligible_countries",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 8}),
            "fee_notes": forms.Textarea(attrs={"rows": 3}),
            "waiver_notes": forms.Textarea(attrs={"rows": 3}),
            "accommodation_notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, host: Institution, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.host = host
        cast(SiteMultipleChoiceField, self.fields["sites"]).queryset = Site.objects.filter(
            institution=host
        )
        cast(forms.ModelChoiceField, self.fields["specialty"]).queryset = Specialty.objects.all()
        self.fields["currency"].help_text = _("Three-letter ISO code, e.g. USD, EUR, KES.")
        current = list(self.instance.languages or []) if self.instance.pk else []
        for index in range(1, LANGUAGE_ROWS + 1):
            item = current[index - 1] if index <= len(current) else {}
            self.fields[f"language_{index}"] = forms.ChoiceField(
                label=_("Language %(number)d") % {"number": index},
                choices=_blank_language_choices,
                required=False,
                initial=item.get("code", ""),
            )
            self.fields[f"language_level_{index}"] = forms.ChoiceField(
                label=_("Minimum level for language %(number)d") % {"number": index},
                choices=[("", "—"), *Cefr.choices],
                required=False,
                initial=item.get("level", ""),
            )

    def language_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"language_{index}"], self[f"language_level_{index}"])
            for index in range(1, LANGUAGE_ROWS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        languages = []
        for index in range(1, LANGUAGE_ROWS + 1):
            code = data.get(f"language_{index}") or ""
            level = data.get(f"language_level_{index}") or ""
            if code and not level:
                self.add_error(f"language_level_{index}", _("Choose the minimum level."))
            elif level and not code:
                self.add_error(f"language_{index}", _("Choose the language for this level."))
            elif code:
                languages.append({"code": code, "level": level})
        data["languages"] = languages
        return data

    def _post_clean(self) -> None:
        # The service validates the whole opportunity (with its host); the form only parses.
        pass

    def service_values(self) -> dict[str, Any]:
        fields = set(OPPORTUNITY_EDITABLE_FIELDS) - {"slug"}
        return {name: self.cleaned_data[name] for name in fields if name in self.cleaned_data}


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time_widget() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class SessionForm(forms.Form):
    """A session; the application window is entered in the host's time zone."""

    start_date = forms.DateField(label=_("Starts on"), widget=_date_widget())
    end_date = forms.DateField(label=_("Ends on"), widget=_date_widget())
    capacity = forms.IntegerField(label=_("Places"), min_value=0)
    opens_on = forms.DateField(label=_("Applications open on"), widget=_date_widget())
    opens_time = forms.TimeField(
        label=_("Applications open at"), initial=dt.time(0, 0), widget=_time_widget()
    )
    closes_on = forms.DateField(label=_("Applications close on"), widget=_date_widget())
    closes_time = forms.TimeField(
        label=_("Applications close at"), initial=dt.time(23, 59), widget=_time_widget()
    )
    decision_date = forms.DateField(label=_("Decisions by"), required=False, widget=_date_widget())

    def __init__(
        self, *args: Any, zone: str, instance: Session | None = None, **kwargs: Any
    ) -> None:
        self.zone = ZoneInfo(zone)
        if instance is not None and "initial" not in kwargs:
            opens = timezone.localtime(instance.applications_open_at, self.zone)
            closes = timezone.localtime(instance.applications_close_at, self.zone)
            kwargs["initial"] = {
                "start_date": instance.start_date,
                "end_date": instance.end_date,
                "capacity": instance.capacity,
                "opens_on": opens.date(),
                "opens_time": opens.time().replace(second=0, microsecond=0),
                "closes_on": closes.date(),
                "closes_time": closes.time().replace(second=0, microsecond=0),
                "decision_date": instance.decision_date,
            }
        super().__init__(*args, **kwargs)
        for name in ("opens_time", "closes_time"):
            self.fields[name].label = f"{self.fields[name].label} ({zone})"
            self.fields[name].help_text = _("Time in %(zone)s, the host's time zone.") % {
                "zone": zone
            }

    def service_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "start_date": data["start_date"],
            "end_date": data["end_date"],
            "capacity": data["capacity"],
            "applications_open_at": dt.datetime.combine(
                data["opens_on"], data["opens_time"], tzinfo=self.zone
            ),
            "applications_close_at": dt.datetime.combine(
                data["closes_on"], data["closes_time"], tzinfo=self.zone
            ),
            "decision_date": data.get("decision_date"),
        }


class SessionGenerateForm(forms.Form):
    first_start = forms.DateField(label=_("First session starts on"), widget=_date_widget())
    recurrence = forms.ChoiceField(label=_("Repeat"), choices=Recurrence.choices)
    count = forms.IntegerField(
        label=_("Number of sessions"), min_value=1, max_value=MAX_GENERATED_SESSIONS, initial=12
    )
    capacity = forms.IntegerField(label=_("Places in each session"), min_value=0)
    open_days_before = forms.IntegerField(
        label=_("Applications open (days before the start)"), min_value=1, initial=180
    )
    close_days_before = forms.IntegerField(
        label=_("Applications close (days before the start)"), min_value=1, initial=60
    )
    decision_days_before = forms.IntegerField(
        label=_("Decisions due (days before the start)"),
        min_value=1,
        required=False,
        initial=30,
        help_text=_("Leave empty for no decision date."),
    )

    def service_values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (kept in the history)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or Excel (.xlsx) file"),
        help_text=_("At most 2 MB; the first row holds the column names."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError(_("The file is larger than 2 MB."))
        if upload.size == 0:
            raise ValidationError(_("The file is empty."))
        return upload
