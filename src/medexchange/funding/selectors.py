"""Reads of funds: totals derived from the ledger, exchange rates, outstanding commitments."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Q, Sum
from django.utils import timezone

from medexchange.funding.choices import LedgerKind
from medexchange.funding.models import (
    Commitment,
    Donation,
    ExchangeRate,
    Fund,
    LedgerEntry,
    RefundRequest,
)
from medexchange.funding.money import convert, quantize
from medexchange.network.models import Network

ZERO = Decimal(0)
K = LedgerKind


@dataclass(frozen=True)
class FundTotals:
    """A fund's money, every figure derived from its ledger, in the fund's currency.

    held       = raised - refunded - disbursed + adjusted (money in the fund's account)
    committed  = reserved - released - paid out (promised, not yet paid)
    available  = held - committed (free for new commitments)
    raised     = Σ donations; refunded = Σ refunds
    disbursed  = paid out - returned (net money paid to participants)
    """

    held: Decimal = ZERO
    committed: Decimal = ZERO
    available: Decimal = ZERO
    raised: Decimal = ZERO
    refunded: Decimal = ZERO
    disbursed: Decimal = ZERO
    paid: Decimal = ZERO
    returned: Decimal = ZERO
    adjusted: Decimal = ZERO
    currency: str = ""


def totals_from_sums(sums: dict[str, tuple[Decimal, Decimal]], currency: str) -> FundTotals:
    def held(kind: str) -> Decimal:
        return sums.get(kind, (ZERO, ZERO))[0]

    def q(value: Decimal) -> Decimal:
        return quantize(value, currency) if currency else value

    total_held = sum((value[0] for value in sums.values()), ZERO)
    committed = sum((value[1] for value in sums.values()), ZERO)
    paid = -held(K.DISBURSEMENT)
    returned = held(K.RETURN)
    return FundTotals(
        held=q(total_held),
        committed=q(committed),
        available=q(total_held - committed),
        raised=q(held(K.DONATION)),
        refunded=q(-held(K.REFUND)),
        disbursed=q(paid - returned),
        paid=q(paid),
        returned=q(returned),
        adjusted=q(held(K.ADJUSTMENT)),
        currency=currency,
    )


def _sums_by_fund(fund_ids: list[int]) -> dict[int, dict[str, tuple[Decimal, Decimal]]]:
    """fund id → kind → (Σ held_delta, Σ committed_delta), in one grouped query."""
    rows = (
        LedgerEntry.objects.filter(fund_id__in=fund_ids)
        .order_by()
        .values("fund_id", "kind")
        .annotate(held=Sum("held_delta"), committed=Sum("committed_delta"))
    )
    sums: dict[int, dict[str, tuple[Decimal, Decimal]]] = defaultdict(dict)
    for row in rows:
        sums[row["fund_id"]][row["kind"]] = (
            Decimal(row["held"] or 0),
            Decimal(row["committed"] or 0),
        )
    return sums


def fund_totals(fund: Fund) -> FundTotals:
    """One fund's totals (one query)."""
    return fund_totals_many([fund])[fund.pk]


def fund_totals_many(funds: Iterable[Fund]) -> dict[int, FundTotals]:
    """Totals of many funds, keyed by fund id, in one grouped query of the ledger."""
    funds = list(funds)
    sums = _sums_by_fund([fund.pk for fund in funds])
    return {fund.pk: totals_from_sums(sums.get(fund.pk, {}), fund.currency) for fund in funds}


def balances(fund_id: int) -> tuple[Decimal, Decimal]:
    """(held, committed) of one fund, straight from the ledger (services call it under
    the fund's row lock)."""
    row = LedgerEntry.objects.filter(fund_id=fund_id).aggregate(
        held=Sum("held_delta"), committed=Sum("committed_delta")
    )
    return Decimal(row["held"] or 0), Decimal(row["committed"] or 0)


def balances_to_count_on(
    fund_id: int, *, exclude_donation: int | None = None
) -> tuple[Decimal, Decimal]:
    """(held, committed) as a new commitment, adjustment or refund may count on them: the
    ledger's, less the refunds asked of the provider that it does not hold yet (money
    already on its way back to donors). ``_check_balanced`` keeps reading the ledger alone."""
    held, committed = balances(fund_id)
    return held - pending_refunds(fund_id, exclude_donation=exclude_donation), committed


def commitment_outstanding(commitment: Commitment) -> Decimal:
    """amount - released - paid, from the ledger (fresh, never the cached annotation)."""
    total = LedgerEntry.objects.filter(commitment=commitment).aggregate(
        total=Sum("committed_delta")
    )["total"]
    return Decimal(total or 0)


def exchange_rate_on(
    from_currency: str, to_currency: str, on: dt.date, *, network: Network | None = None
) -> ExchangeRate | None:
    """The latest rate from → to recorded for a day on or before ``on``: the network's own
    or a platform-wide one (the network's wins on the same day; then the latest recorded)."""
    scope = Q(network__isnull=True)
    if network is not None:
        scope |= Q(network=network)
    candidates = ExchangeRate.objects.filter(
        scope, from_currency=from_currency, to_currency=to_currency, on__lte=on
    )
    return candidates.order_by("-on", F("network_id").asc(nulls_last=True), "-pk").first()


def rate_on(
    from_currency: str, to_currency: str, on: dt.date, *, network: Network | None = None
) -> Decimal | None:
    """1 ``from_currency`` in ``to_currency`` on ``on``; 1 for the same currency; ``None``
    when no rate is recorded on or before that day."""
    if from_currency == to_currency:
        return Decimal(1)
    found = exchange_rate_on(from_currency, to_currency, on, network=network)
    return found.rate if found is not None else None


#: How long a refund asked of the payment provider is waited for. Providers confirm in
#: seconds; one never confirmed (it failed there) no longer holds up the gift after this
#: (Stripe forgets idempotency keys after 24 hours too, so asking again makes a new one).
REFUND_PENDING_FOR = dt.timedelta(hours=24)


def pending_refund(donation: Donation) -> RefundRequest | None:
    """The latest refund of the gift asked of the provider that its ledger does not hold
    yet (and asked within ``REFUND_PENDING_FOR``), if any."""
    refunded = donation.refunded_amount
    since = timezone.now() - REFUND_PENDING_FOR
    for request in donation.refund_requests.filter(created_at__gte=since).order_by("-pk"):
        if not request.is_confirmed(refunded):
            return request
    return None


def pending_refunds(fund_id: int, *, exclude_donation: int | None = None) -> Decimal:
    """The fund's share of the refunds asked of the provider that its ledger does not hold
    yet: money already on its way back to donors, which no commitment, adjustment or other
    refund may count on (services call it under the fund's row lock)."""
    since = timezone.now() - REFUND_PENDING_FOR
    requests = RefundRequest.objects.filter(
        donation__fund_id=fund_id, created_at__gte=since
    ).select_related("donation__fund")
    if exclude_donation is not None:
        requests = requests.exclude(donation_id=exclude_donation)
    total = Decimal(0)
    for request in requests.order_by("pk"):
        gift = request.donation
        if request.is_confirmed(gift.refunded_amount):
            continue
        share = convert(request.amount, gift.currency, gift.fund.currency, gift.rate)
        total += min(share, gift.fund_amount - gift.refunded_fund_amount)
    return total
