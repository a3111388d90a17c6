"""The allocation's reasoning in words: the engine's reason codes (and the ones this app
adds for requests it leaves out of the instance), translated for the page.

Amounts in ``params`` are decimal strings of the call's currency; they are written out
with ``funding.money.format_money`` in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from medexchange.funding.money import format_money


def _money(value: Any, currency: str) -> str:
    try:
        return format_money(Decimal(str(value)), currency)
    except (InvalidOperation, ValueError):
        return str(value)


def _fund_names(value: Any) -> str:
    from medexchange.funding.models import Fund

    ids = [int(item) for item in (value or []) if str(item).isdigit()]
    names = dict(Fund.objects.filter(pk__in=ids).values_list("pk", "name"))
    return ", ".join(names.get(pk, str(pk)) for pk in ids)


def _priority(value: Any) -> str:
    try:
        return f"{Decimal(str(value)):.2f}"
    except (InvalidOperation, ValueError):
        return str(value)


def _outranked(params: dict[str, Any], currency: str) -> str:
    parts = [
        _(
            "Not funded: its priority is %(priority)s (rank %(rank)s) and it needs "
            "%(needed)s, but only %(left)s is left in the funds it may draw on once the "
            "awards that give the most priority together are made."
        )
        % {
            "priority": _priority(params.get("priority")),
            "rank": params.get("rank", "?"),
            "needed": _money(params.get("needed"), currency),
            "left": _money(params.get("left"), currency),
        }
    ]
    higher, lower = params.get("funded_higher_ratio"), params.get("funded_lower_ratio")
    if higher is not None and lower is not None:
        parts.append(
            _(
                "Of the funded requests drawing on the same funds, %(higher)s give more "
                "priority per amount asked and %(lower)s less."
            )
            % {"higher": higher, "lower": lower}
        )
    cost = params.get("cost")
    if cost is not None:
        if params.get("cost_kind") == "exact":
            text = _("Funding it instead would lower the total priority by %(cost)s.") % {
                "cost": _priority(cost)
            }
            displaced = params.get("displaced")
            if displaced:
                text += " " + ngettext(
                    "It would take the place of %(count)d funded request.",
                    "It would take the place of %(count)d funded requests.",
                    int(displaced),
                ) % {"count": int(displaced)}
            parts.append(text)
        else:
            parts.append(
                _("Funding it instead would lower the total priority by at least %(cost)s.")
                % {"cost": _priority(cost)}
            )
    return " ".join(parts)


def _pinned(params: dict[str, Any], funded: bool) -> str:
    if funded:
        return _("Awarded: the committee pinned it to an award.")
    if params.get("pin") == "no_award":
        return _("Not awarded: the committee pinned it to no award.")
    return _(
        "Pinned to an award, but the pinned awards do not fit in the funds together: see "
        "the conflict above."
    )


def _texts(currency: str) -> dict[str, Callable[[dict[str, Any]], str]]:
    def money(params: dict[str, Any], key: str) -> str:
        return _money(params.get(key, ""), currency)

    return {
        # The engine's (docs/funding-allocation-engine.md).
        "funded": lambda p: (
            _(
                "Funded: %(amount)s. Its priority is %(priority)s (rank %(rank)s), and it is part "
                "of the set of awards with the highest total priority the funds can pay."
            )
            % {
                "amount": money(p, "amount"),
                "priority": _priority(p.get("priority")),
                "rank": p.get("rank", "?"),
            }
        ),
        "funded_reduced": lambda p: (
            _(
                "Funded %(amount)s of the %(requested)s asked for: the funds could not cover all "
                "of it, and %(min_amount)s or more still helps."
            )
            % {
                "amount": money(p, "amount"),
                "requested": money(p, "requested"),
                "min_amount": money(p, "min_amount"),
            }
        ),
        "pinned_by_staff": lambda p: _pinned(p, "amount" in p),
        "no_eligible_fund": lambda p: _(
            "None of the call's funds may pay for applicants from this home country."
        ),
        "not_eligible_for_any_fund_with_money": lambda p: (
            _(
                "The funds it may draw on (%(funds)s) have %(available)s available; it needs "
                "%(needed)s."
            )
            % {
                "funds": _fund_names(p.get("eligible_funds")),
                "available": money(p, "available"),
                "needed": money(p, "needed"),
            }
        ),
        "eligible_funds_used_by_pinned_awards": lambda p: (
            _(
                "The awards the committee pinned leave %(left)s in the funds it may draw on; it "
                "needs %(needed)s."
            )
            % {"left": money(p, "left_after_pins"), "needed": money(p, "needed")}
        ),
        "not_allocated_pins_conflict": lambda p: _(
            "Nothing was allocated: the committee's pins do not fit together (see the "
            "conflict above). Change a pin and propose again."
        ),
        "not_solved_in_time": lambda p: _(
            "The allocation did not finish within its time limit: propose again."
        ),
        "outranked": lambda p: _outranked(p, currency),
        # This app's: requests left out of the engine's instance.
        "not_reviewed": lambda p: _("Nobody has scored this request yet, so it has no priority."),
        "application_closed": lambda p: _("The application is no longer going."),
    }


CONFLICTS: dict[str, Callable[[dict[str, Any], str], str]] = {
    "pinned_award_without_eligible_fund": lambda p, c: (
        _(
            "Request #%(request)s is pinned to an award, but none of the call's funds may pay "
            "for it."
        )
        % {"request": p.get("request", "?")}
    ),
    "pinned_award_exceeds_eligible_funds": lambda p, c: (
        _(
            "Request #%(request)s is pinned to an award of %(needed)s, but its funds (%(funds)s) "
            "have only %(available)s."
        )
        % {
            "request": p.get("request", "?"),
            "needed": _money(p.get("needed"), c),
            "funds": _fund_names(p.get("funds")),
            "available": _money(p.get("available"), c),
        }
    ),
    "pinned_awards_overrun_funds": lambda p, c: (
        _(
            "The awards pinned for requests %(requests)s need %(needed)s from %(funds)s, which "
            "have %(available)s."
        )
        % {
            "requests": ", ".join(f"#{item}" for item in p.get("requests", [])),
            "needed": _money(p.get("needed"), c),
            "funds": _fund_names(p.get("funds")),
            "available": _money(p.get("available"), c),
        }
    ),
}


def explain_conflict(code: str, params: dict[str, Any], *, currency: str) -> str:
    """A conflict between the committee's pins, as a sentence."""
    text = CONFLICTS.get(code)
    if text is None:
        return _("The pins conflict: %(code)s.") % {"code": code or "?"}
    try:
        return text(params or {}, currency)
    except (KeyError, TypeError, ValueError):
        return _("The pins conflict: %(code)s.") % {"code": code}


def explain(code: str, params: dict[str, Any], *, currency: str) -> str:
    """The reason ``code`` (with its ``params``) as a sentence in the active language."""
    text = _texts(currency).get(code)
    if text is None:
        return _("The allocation's reason: %(code)s.") % {"code": code or "?"}
    try:
        return text(params or {})
    except (KeyError, TypeError, ValueError):
        return _("The allocation's reason: %(code)s.") % {"code": code}
