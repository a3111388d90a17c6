"""The fund page's chart of money in and out per month, drawn on the server as SVG
geometry (no script, no library): two bars a month — in (donations - refunds) and out
(disbursements - returns) — on a scale with four gridlines. The template draws it; a
table beside it says the same for screen readers and for people who prefer numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext as _

from medexchange.funding.money import format_money
from medexchange.funding.reports import MonthFlow

WIDTH = 640
HEIGHT = 260
LEFT = 84  # room for the scale's labels
RIGHT = 8
TOP = 12
BOTTOM = 48  # room for the months and years
TICKS = 4
MAX_LABELS = 12
IN_COLOUR = "#0b5cad"  # the site's blue; 3:1 or more against white, like OUT_COLOUR
OUT_COLOUR = "#b35900"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class MonthLabel:
    x: float
    month: str
    year: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    zero_y: float
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[MonthLabel]
    in_colour: str = IN_COLOUR
    out_colour: str = OUT_COLOUR

    @property
    def plot_right(self) -> int:
        return self.width - self.right

    @property
    def label_x(self) -> int:
        return self.left - 6


def nice_ceiling(value: Decimal) -> Decimal:
    """The scale's top: the smallest 1, 2, 2.5 or 5 times a power of ten >= ``value``."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        candidate = step.scaleb(exponent)
        if candidate >= value:
            return candidate
    return Decimal(10).scaleb(exponent)  # pragma: no cover - ten times the power always fits


def _number(value: Decimal) -> str:
    return formats.number_format(value.normalize(), use_l10n=True, force_grouping=True)


def flow_chart(flows: Sequence[MonthFlow], currency: str) -> Chart | None:
    """The chart of ``flows`` (oldest first), or ``None`` when nothing moved."""
    if not flows or not any(flow.money_in or flow.money_out for flow in flows):
        return None
    values = [value for flow in flows for value in (flow.money_in, flow.money_out)]
    top = nice_ceiling(max(max(values), Decimal(0)))
    lowest = min(values)
    bottom = -nice_ceiling(-lowest) if lowest < 0 else Decimal(0)
    span = top - bottom
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT

    def y_of(value: Decimal) -> float:
        return TOP + float((top - value) / span) * plot_height

    zero_y = y_of(Decimal(0))
    slot = plot_width / len(flows)
    bar_width = max(1.0, slot * 0.36)
    bars: list[Bar] = []
    labels: list[MonthLabel] = []
    every = max(1, -(-len(flows) // MAX_LABELS))
    for index, flow in enumerate(flows):
        x = LEFT + index * slot + slot * 0.12
        for offset, value, colour, what in (
            (0.0, flow.money_in, IN_COLOUR, "in"),
            (bar_width, flow.money_out, OUT_COLOUR, "out"),
        ):
            end = y_of(value)
            title = _bar_title(flow, what, value, currency)
            bars.append(
                Bar(
                    x=round(x + offset, 1),
                    y=round(min(end, zero_y), 1),
                    width=round(bar_width, 1),
                    height=round(abs(zero_y - end), 1),
                    colour=colour,
                    title=title,
                )
            )
        if index % every == 0:
            first_of_year = index == 0 or flow.month.month == 1
            labels.append(
                MonthLabel(
                    x=round(LEFT + index * slot + slot / 2, 1),
                    month=flow.short_label,
                    year=str(flow.month.year) if first_of_year else "",
                )
            )
    ticks = [
        Tick(
            y=round(y_of(bottom + span * step / TICKS), 1),
            label=_number(bottom + span * step / TICKS),
        )
        for step in range(TICKS + 1)
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=RIGHT,
        zero_y=round(zero_y, 1),
        bars=bars,
        ticks=ticks,
        labels=labels,
    )


def _bar_title(flow: MonthFlow, what: str, value: Decimal, currency: str) -> str:
    amount = format_money(value, currency)
    if what == "in":
        return _("%(month)s: %(amount)s in") % {"month": flow.label, "amount": amount}
    return _("%(month)s: %(amount)s out") % {"month": flow.label, "amount": amount}
