"""The finance report's form: which fund, which periods, from when to when."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medexchange.funding.forms import DateInput
from medexchange.funding.models import Fund
from medexchange.funding.reports import Granularity, count_periods

#: The most rows (periods) one report shows: a longer range needs longer periods.
MAX_PERIODS = 120


class ReportForm(forms.Form):
    fund: forms.ModelChoiceField[Fund] = forms.ModelChoiceField(
        label=_("Fund"),
        queryset=None,
        required=False,
        to_field_name="slug",
        empty_label=_("All funds of the network"),
    )
    granularity = forms.ChoiceField(
        label=_("Periods"), choices=Granularity.choices, initial=Granularity.MONTH
    )
    start = forms.DateField(label=_("From"), widget=DateInput())
    end = forms.DateField(label=_("To (included)"), widget=DateInput())

    def __init__(self, *args: Any, funds: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fund: Any = self.fields["fund"]
        fund.queryset = funds

    @staticmethod
    def defaults(today: dt.date | None = None) -> dict[str, str]:
        """This year so far, by month."""
        today = today or timezone.localdate()
        return {
            "fund": "",
            "granularity": Granularity.MONTH,
            "start": dt.date(today.year, 1, 1).isoformat(),
            "end": today.isoformat(),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end, granularity = data.get("start"), data.get("end"), data.get("granularity")
        if start and end and end < start:
            self.add_error("end", _("The end is before the start: swap the dates."))
        elif start and end and granularity:
            count = count_periods(start, end, granularity)
            if count > MAX_PERIODS:
                self.add_error(
                    "end",
                    _(
                        "That is %(count)d periods; a report shows at most %(most)d. Choose a "
                        "shorter range or longer periods (quarters or years)."
                    )
                    % {"count": count, "most": MAX_PERIODS},
                )
        return data
