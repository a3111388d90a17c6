"""JSON (already decoded) → :class:`Instance`, validating as it goes.

Every problem raises :class:`InstanceError` whose message starts with the JSON path
of the first offending value, e.g. ``requests[12].amount: has more than 2 decimals
('10.005')``. Amounts are decimal strings (or integers) in the call currency with at
most ``minor_digits`` decimals: more is refused, never rounded.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .model import PINS, PRIORITY_SCALE, Fund, Instance, InstanceError, Options, Request

_TOP_KEYS = frozenset({"currency", "minor_digits", "funds", "requests", "options"})
_FUND_KEYS = frozenset({"id", "available"})
_REQUEST_KEYS = frozenset({"id", "priority", "amount", "min_amount", "funds", "pinned"})
_OPTION_KEYS = frozenset({"allow_split", "time_limit", "explain_top"})
_AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")

MAX_FUNDS = 8  # the feasibility rows range over subsets of funds (2**8 - 1 at most)
MAX_REQUESTS = 20_000
MAX_PRIORITY = 1_000_000
MAX_MINOR = 10**14  # minor units: a trillion euros is not a scholarship


def _fail(path: str, message: str) -> InstanceError:
    return InstanceError(f"{path}: {message}")


def _object(value: Any, path: str, keys: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, "must be an object")
    for key in value:
        if key not in keys:
            raise _fail(f"{path}.{key}" if path != "$" else str(key), "unknown key")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(path, "must be a list")
    return value


def _id(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, "must be a non-empty string")
    return value


def _decimal(value: Any, path: str) -> Decimal:
    """A JSON integer or a plain decimal string ("1500.00"), never a float."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _fail(path, 'must be a decimal string such as "1500.00"')
    text = str(value)
    if not _AMOUNT.fullmatch(text):
        raise _fail(path, f'must be a decimal string such as "1500.00", not {text!r}')
    return Decimal(text)


def amount_to_minor(value: Any, path: str, digits: int, *, positive: bool) -> int:
    """Minor units of a money amount, refusing negatives and excess decimals."""
    number = _decimal(value, path)
    if number < 0:
        raise _fail(path, f"must not be negative ({value})")
    if positive and number == 0:
        raise _fail(path, "must be more than zero")
    text = str(value)
    decimals = len(text) - text.index(".") - 1 if "." in text else 0
    if decimals > digits:
        raise _fail(path, f"has more than {digits} decimals ({text!r})")
    minor = int(number.scaleb(digits))
    if minor > MAX_MINOR:
        raise _fail(path, "is too large")
    return minor


def _priority(value: Any, path: str) -> int:
    """Hundredths of a priority given as a JSON number or decimal string."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _fail(path, "must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(path, "must be a finite number")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        raise _fail(path, f"must be a number, not {value!r}") from None
    if not number.is_finite():
        raise _fail(path, "must be a finite number")
    if number < 0:
        raise _fail(path, f"must not be negative ({value})")
    if number > MAX_PRIORITY:
        raise _fail(path, f"must be at most {MAX_PRIORITY}")
    scaled = number * PRIORITY_SCALE
    if scaled != scaled.to_integral_value():
        raise _fail(path, f"has more than 2 decimals ({value!r}); priorities count in 0.01")
    return int(scaled)


def _options(value: Any) -> Options:
    raw = _object(value, "options", _OPTION_KEYS)
    defaults = Options()
    allow_split = raw.get("allow_split", defaults.allow_split)
    if not isinstance(allow_split, bool):
        raise _fail("options.allow_split", "must be true or false")
    time_limit = raw.get("time_limit", defaults.time_limit)
    if (
        isinstance(time_limit, bool)
        or not isinstance(time_limit, (int, float))
        or not 0 < time_limit <= 3600
    ):
        raise _fail("options.time_limit", "must be a number of seconds between 0 and 3600")
    explain_top = raw.get("explain_top", defaults.explain_top)
    if isinstance(explain_top, bool) or not isinstance(explain_top, int) or explain_top < 0:
        raise _fail("options.explain_top", "must be a non-negative integer")
    return Options(allow_split=allow_split, time_limit=float(time_limit), explain_top=explain_top)


def parse_instance(data: Any) -> Instance:
    """Validate decoded JSON and build the instance (see docs/funding-allocation-engine.md)."""
    top = _object(data, "$", _TOP_KEYS)
    currency = top.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise _fail("currency", "must be an ISO 4217 code of three capital letters")
    digits = top.get("minor_digits")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 4:
        raise _fail("minor_digits", "must be an integer from 0 to 4")

    raw_funds = _list(top.get("funds"), "funds")
    if len(raw_funds) > MAX_FUNDS:
        raise _fail("funds", f"at most {MAX_FUNDS} funds per allocation")
    funds: list[Fund] = []
    fund_ids: set[str] = set()
    for k, raw in enumerate(raw_funds):
        path = f"funds[{k}]"
        obj = _object(raw, path, _FUND_KEYS)
        ident = _id(obj.get("id"), f"{path}.id")
        if ident in fund_ids:
            raise _fail(f"{path}.id", f"repeated fund id {ident!r}")
        fund_ids.add(ident)
        if "available" not in obj:
            raise _fail(f"{path}.available", "is required")
        available = amount_to_minor(obj["available"], f"{path}.available", digits, positive=False)
        funds.append(Fund(id=ident, available=available))

    raw_requests = _list(top.get("requests"), "requests")
    if len(raw_requests) > MAX_REQUESTS:
        raise _fail("requests", f"at most {MAX_REQUESTS} requests per allocation")
    requests: list[Request] = []
    request_ids: set[str] = set()
    for k, raw in enumerate(raw_requests):
        path = f"requests[{k}]"
        obj = _object(raw, path, _REQUEST_KEYS)
        ident = _id(obj.get("id"), f"{path}.id")
        if ident in request_ids:
            raise _fail(f"{path}.id", f"repeated request id {ident!r}")
        request_ids.add(ident)
        if "priority" not in obj:
            raise _fail(f"{path}.priority", "is required")
        priority = _priority(obj["priority"], f"{path}.priority")
        if "amount" not in obj:
            raise _fail(f"{path}.amount", "is required")
        amount = amount_to_minor(obj["amount"], f"{path}.amount", digits, positive=True)
        minimum = amount
        if obj.get("min_amount") is not None:
            minimum = amount_to_minor(
                obj["min_amount"], f"{path}.min_amount", digits, positive=True
            )
            if minimum > amount:
                raise _fail(
                    f"{path}.min_amount",
                    f"is more than the amount ({obj['min_amount']} > {obj['amount']})",
                )
        eligible = _list(obj.get("funds"), f"{path}.funds")
        seen: set[str] = set()
        for f, fund_id in enumerate(eligible):
            if not isinstance(fund_id, str) or fund_id not in fund_ids:
                raise _fail(f"{path}.funds[{f}]", f"unknown fund id {fund_id!r}")
            if fund_id in seen:
                raise _fail(f"{path}.funds[{f}]", f"repeated fund id {fund_id!r}")
            seen.add(fund_id)
        pinned = obj.get("pinned")
        if pinned is not None and pinned not in PINS:
            raise _fail(f"{path}.pinned", 'must be "award", "no_award" or null')
        requests.append(
            Request(
                id=ident,
                priority=priority,
                amount=amount,
                min_amount=minimum,
                funds=tuple(eligible),
                pinned=pinned,
            )
        )
    options = _options(top.get("options", {}))
    return Instance(
        currency=currency,
        minor_digits=digits,
        funds=tuple(funds),
        requests=tuple(requests),
        options=options,
    )
