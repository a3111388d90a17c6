"""Forms of match cycles: a new cycle, a ranking move, a run, a comparison."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medexchange.catalog.models import Session
from medexchange.matching.choices import RunKind
from medexchange.matching.permissions import active_member_ids, organised_hosts, organised_networks

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def organiser_choices(user: Any) -> list[tuple[str, str]]:
    """``network-<pk>`` for networks the user runs, ``host-<pk>`` for institutions they
    coordinate."""
    networks = [(f"network-{n.pk}", str(n)) for n in organised_networks(user).order_by("name")]
    hosts = [(f"host-{i.pk}", str(i)) for i in organised_hosts(user).order_by("name")]
    return networks + hosts


def sessions_for(organiser: str, user: Any) -> Any:
    """Sessions an organiser may put in a cycle: scheduled, not started, of its hosts."""
    kind, _sep, pk = organiser.partition("-")
    sessions = Session.objects.scheduled().filter(start_date__gt=timezone.localdate())
    if kind == "network" and pk.isdigit():
        network = organised_networks(user).filter(pk=int(pk)).first()
        if network is not None:
            sessions = sessions.filter(opportunity__host_id__in=active_member_ids(network))
            return sessions.select_related("opportunity__host").order_by("start_date", "pk")
    if kind == "host" and pk.isdigit():
        host = organised_hosts(user).filter(pk=int(pk)).first()
        if host is not None:
            return (
                sessions.filter(opportunity__host=host)
                .select_related("opportunity__host")
                .order_by("start_date", "pk")
            )
    return Session.objects.none()


class SessionChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return (
            f"{obj.opportunity.title} · {obj.opportunity.host.name} · "
            f"{obj.start_date:%Y-%m-%d} ({obj.capacity})"
        )


class CycleForm(forms.Form):
    """A new cycle; dates and times are read in the user's own time zone."""

    organiser = forms.ChoiceField(label=_("Organised by"))
    name = forms.CharField(label=_("Name"), max_length=200)
    sessions = SessionChoices(
        label=_("Sessions"),
        queryset=Session.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Title · host · first day (places)."),
    )
    binding = forms.BooleanField(
        label=_("Binding: a match is a place"),
        required=False,
        initial=True,
        help_text=_("Leave unticked for a non-binding cycle: a match is an offer to answer."),
    )
    reserved_places = forms.IntegerField(
        label=_("Places reserved per session"),
        min_value=0,
        max_value=100,
        initial=0,
        help_text=_(
            "For applicants from countries where Emergency Medicine is not yet established."
        ),
    )
    ranking_opens_at = forms.DateTimeField(label=_("Ranking opens"), widget=DATETIME_WIDGET)
    ranking_closes_at = forms.DateTimeField(label=_("Ranking closes"), widget=DATETIME_WIDGET)
    results_planned_at = forms.DateTimeField(label=_("Results planned for"), widget=DATETIME_WIDGET)

    def __init__(self, *args: Any, user: Any, organiser: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organiser_field = self.fields["organiser"]
        assert isinstance(organiser_field, forms.ChoiceField)  # noqa: S101 - declared above
        organiser_field.choices = organiser_choices(user)
        sessions_field = self.fields["sessions"]
        assert isinstance(sessions_field, forms.ModelMultipleChoiceField)  # noqa: S101
        sessions_field.queryset = sessions_for(organiser, user)
        now = timezone.localtime().replace(second=0, microsecond=0)
        self.initial.setdefault("organiser", organiser)
        self.initial.setdefault("ranking_opens_at", now)
        self.initial.setdefault("ranking_closes_at", now + dt.timedelta(days=14))
        self.initial.setdefault("results_planned_at", now + dt.timedelta(days=15))


class MoveForm(forms.Form):
    """One ranking change: up, down, to a position; for hosts also rank or unrank."""

    application = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    direction = forms.ChoiceField(
        choices=[
            ("up", "up"),
            ("down", "down"),
            ("to", "to"),
            ("rank", "rank"),
            ("unrank", "unrank"),
        ]
    )
    position = forms.IntegerField(
        label=_("Position"), required=False, min_value=1, max_value=10_000
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("direction") == "to" and data.get("position") is None:
            self.add_error("position", _("Give the position to move to."))
        return data


class RunForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=RunKind.choices, initial=RunKind.DRY)


class CompareForm(forms.Form):
    other = forms.IntegerField(label=_("Compare with run"), min_value=1, max_value=2**63 - 1)
