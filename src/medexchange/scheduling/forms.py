"""Forms of rotation plans: they parse what people type; the services decide."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medexchange.scheduling.choices import AbsenceKind, PairKind, PlanUnit
from medexchange.scheduling.models import PlanParticipant, PlanSite, RotationPlan

_SPLIT = re.compile(r"[\s,;]+")


def _tokens(text: str) -> list[str]:
    return [token for token in _SPLIT.split(text.strip()) if token]


class SettingsForm(forms.Form):
    unit = forms.ChoiceField(label=gettext_lazy("Periods in"), choices=PlanUnit.choices)
    start_date = forms.DateField(
        label=gettext_lazy("First period starts"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Defaults to the session's first day."),
    )
    min_sites = forms.IntegerField(
        label=gettext_lazy("Sites each participant visits at least"), min_value=1, max_value=50
    )
    min_stay = forms.IntegerField(
        label=gettext_lazy("Shortest stay at a site (periods)"), min_value=1, max_value=400
    )
    max_stay = forms.IntegerField(
        label=gettext_lazy("Longest stay at a site (periods)"),
        min_value=1,
        max_value=400,
        required=False,
        help_text=gettext_lazy("Empty: no maximum."),
    )
    balance = forms.BooleanField(
        label=gettext_lazy("Balance the sites"),
        required=False,
        help_text=gettext_lazy("Spread participants over the sites in proportion to their places."),
    )

    @classmethod
    def for_plan(cls, plan: RotationPlan, data: Any = None) -> SettingsForm:
        return cls(
            data,
            initial={
                "unit": plan.unit,
                "start_date": plan.start_date,
                "min_sites": plan.min_sites,
                "min_stay": plan.min_stay,
                "max_stay": plan.max_stay,
                "balance": plan.balance,
            },
        )


def parse_periods(text: str, plan: RotationPlan) -> list[int]:
    """ "W2, W4-W5" (or "2, 4-5") → period indices; repeated periods are kept so the
    service can refuse the overlap; unknown periods raise a ValidationError."""
    indices: list[int] = []
    prefix = plan.prefix
    for token in _tokens(text):
        first, _sep, last = token.upper().partition("-")
        try:
            a = int(first.removeprefix(prefix))
            b = int(last.removeprefix(prefix)) if last else a
        except ValueError:
            raise forms.ValidationError(
                _("“%(token)s” is not a period: write them as %(example)s.")
                % {"token": token, "example": f"{prefix}2, {prefix}4-{prefix}5"}
            ) from None
        if a > b or a < 1 or b > plan.period_count:
            raise forms.ValidationError(
                _("“%(token)s” is not a period of this plan (%(first)s to %(last)s).")
                % {
                    "token": token,
                    "first": plan.period_id(0),
                    "last": plan.period_id(plan.period_count - 1),
                }
            )
        indices += list(range(a - 1, b))
    return indices


def format_periods(plan: RotationPlan, indices: list[int]) -> str:
    return ", ".join(plan.period_id(t) for t in sorted(indices))


def parse_languages(text: str) -> list[str]:
    return [token.lower() for token in _tokens(text)]


class SiteForm(forms.Form):
    short_name = forms.CharField(
        label=gettext_lazy("Short name"),
        max_length=24,
        help_text=gettext_lazy("Shown in each cell of the plan."),
    )
    capacity = forms.CharField(
        label=gettext_lazy("Places per period"),
        max_length=2000,
        help_text=gettext_lazy("One number, or one per period separated by commas."),
    )
    min_staff = forms.IntegerField(
        label=gettext_lazy("Minimum participants when open"), min_value=0, max_value=999
    )
    closed = forms.CharField(
        label=gettext_lazy("Closed periods"),
        required=False,
        max_length=2000,
        help_text=gettext_lazy("For example W2, W4-W5. The site takes nobody then."),
    )
    languages = forms.CharField(
        label=gettext_lazy("Languages spoken"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("ISO 639-1 codes, e.g. es, en. Empty: any language."),
    )

    def __init__(self, *args: Any, plan: RotationPlan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan = plan

    @classmethod
    def for_site(cls, site: PlanSite, data: Any = None) -> SiteForm:
        plan = site.plan
        capacity = (
            ", ".join(str(v) for v in site.capacity_per_period)
            if site.capacity_per_period
            else str(site.capacity)
        )
        return cls(
            data,
            plan=plan,
            initial={
                "short_name": site.short_name,
                "capacity": capacity,
                "min_staff": site.min_staff,
                "closed": format_periods(plan, site.closed),
                "languages": ", ".join(site.languages),
            },
        )

    def clean_capacity(self) -> list[int]:
        values = []
        for token in _tokens(self.cleaned_data["capacity"]):
            try:
                values.append(int(token))
            except ValueError:
                raise forms.ValidationError(
                    _("“%(token)s” is not a whole number.") % {"token": token}
                ) from None
        if not values:
            raise forms.ValidationError(_("Give the number of places."))
        if any(v < 0 for v in values):
            raise forms.ValidationError(_("Places cannot be negative."))
        return values

    def clean_closed(self) -> list[int]:
        return parse_periods(self.cleaned_data.get("closed") or "", self.plan)

    def clean_languages(self) -> list[str]:
        return parse_languages(self.cleaned_data.get("languages") or "")


class ParticipantForm(forms.Form):
    arrival = forms.DateField(
        label=gettext_lazy("Arrives"), widget=forms.DateInput(attrs={"type": "date"})
    )
    departure = forms.DateField(
        label=gettext_lazy("Leaves"), widget=forms.DateInput(attrs={"type": "date"})
    )
    languages = forms.CharField(
        label=gettext_lazy("Languages"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("ISO 639-1 codes, e.g. es, en. Empty: any site will do."),
    )
    must_visit = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Must visit"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    must_not_visit = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Must not visit"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, plan: RotationPlan, sites: list[PlanSite], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.plan = plan
        choices = [(site.pk, str(site)) for site in sites]
        for name in ("must_visit", "must_not_visit"):
            field = self.fields[name]
            assert isinstance(field, forms.TypedMultipleChoiceField)  # noqa: S101 - declared above
            field.choices = choices
        for rank in range(1, len(sites) + 1):
            self.fields[f"preference_{rank}"] = forms.TypedChoiceField(
                label=_("Choice %(n)d") % {"n": rank},
                choices=[("", _("— none —")), *choices],
                coerce=int,
                empty_value=None,
                required=False,
            )

    @property
    def preference_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name.startswith("preference_")]

    @classmethod
    def for_participant(
        cls, person: PlanParticipant, sites: list[PlanSite], data: Any = None
    ) -> ParticipantForm:
        initial: dict[str, Any] = {
            "arrival": person.arrival,
            "departure": person.departure,
            "languages": ", ".join(person.languages),
            "must_visit": person.must_visit,
            "must_not_visit": person.must_not_visit,
        }
        for rank, pk in enumerate(person.preferences, start=1):
            initial[f"preference_{rank}"] = pk
        return cls(data, plan=person.plan, sites=sites, initial=initial)

    def clean_languages(self) -> list[str]:
        return parse_languages(self.cleaned_data.get("languages") or "")

    def preferences(self) -> list[int]:
        ranked = [
            self.cleaned_data.get(name) for name in self.fields if name.startswith("preference_")
        ]
        return [pk for pk in ranked if pk is not None]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = self.preferences()
        if len(set(chosen)) != len(chosen):
            self.add_error(None, _("Choose each preferred site once."))
        return data


class PairForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Rule"), choices=PairKind.choices)
    first = forms.TypedChoiceField(label=gettext_lazy("Participant"), coerce=int)
    second = forms.TypedChoiceField(label=gettext_lazy("and participant"), coerce=int)

    def __init__(self, *args: Any, people: list[PlanParticipant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(p.pk, p.name) for p in people]
        for name in ("first", "second"):
            field = self.fields[name]
            assert isinstance(field, forms.TypedChoiceField)  # noqa: S101 - declared above
            field.choices = choices


class PairRemoveForm(forms.Form):
    kind = forms.ChoiceField(choices=PairKind.choices)
    index = forms.IntegerField(min_value=0)


class CellForm(forms.Form):
    site = forms.TypedChoiceField(
        label=gettext_lazy("Site"), coerce=int, empty_value=None, required=False
    )
    pinned = forms.BooleanField(
        label=gettext_lazy("Pin this cell"),
        required=False,
        help_text=gettext_lazy("A pinned cell is kept as it is by every solve."),
    )

    def __init__(self, *args: Any, sites: list[PlanSite], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["site"]
        assert isinstance(field, forms.TypedChoiceField)  # noqa: S101 - declared above
        field.choices = [("", _("— no site —")), *((s.pk, str(s)) for s in sites)]


class AbsenceForm(forms.Form):
    """A supervisor's (or the coordinator's) report of a late arrival, early departure or
    no-show; the date is the first day there, or the last day there."""

    kind = forms.ChoiceField(
        label=gettext_lazy("What happened"),
        choices=AbsenceKind.choices,
        widget=forms.RadioSelect,
    )
    day = forms.DateField(
        label=gettext_lazy("Date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy(
            "Arrives later: the first day on site. Leaves earlier: the last day on site. "
            "Not needed when the participant is not coming."
        ),
    )
    note = forms.CharField(
        label=gettext_lazy("Note for the coordinator"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") in {
            AbsenceKind.LATE_ARRIVAL,
            AbsenceKind.EARLY_DEPARTURE,
        } and not data.get("day"):
            self.add_error("day", _("Give the date."))
        return data
