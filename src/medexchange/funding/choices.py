"""Kinds and statuses of the money in funds: purposes, gift methods, ledger kinds."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class FundPurpose(models.TextChoices):
    GENERAL = "general", _("General")
    RESTRICTED = "restricted", _("Restricted to a purpose")


class DonationMethod(models.TextChoices):
    ONLINE = "online", _("Online payment")
    CHEQUE = "cheque", _("Cheque")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CASH = "cash", _("Cash")
    OTHER = "other", _("Other")


#: The methods a finance officer records by hand (online gifts come from the provider).
OFFLINE_METHODS = (
    DonationMethod.CHEQUE,
    DonationMethod.BANK_TRANSFER,
    DonationMethod.CASH,
    DonationMethod.OTHER,
)


class DonationStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("donation status", "Pending")
    SUCCEEDED = "succeeded", pgettext_lazy("donation status", "Received")
    FAILED = "failed", pgettext_lazy("donation status", "Failed")
    REFUNDED = "refunded", pgettext_lazy("donation status", "Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", pgettext_lazy("donation status", "Partly refunded")


#: Donations whose money is (at least partly) in the fund.
RECEIVED_STATUSES = frozenset({DonationStatus.SUCCEEDED, DonationStatus.PARTIALLY_REFUNDED})


class DonationFrequency(models.TextChoices):
    ONE_OFF = "one_off", _("One-off")
    MONTHLY = "monthly", _("Monthly")
    YEARLY = "yearly", _("Yearly")


class PledgeFrequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    YEARLY = "yearly", _("Yearly")


class PledgeStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("pledge status", "Active")
    CANCELLED = "cancelled", pgettext_lazy("pledge status", "Cancelled")
    FAILED = "failed", pgettext_lazy("pledge status", "Failed")


class DisbursementStatus(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("disbursement status", "Planned")
    PAID = "paid", pgettext_lazy("disbursement status", "Paid")
    RETURNED = "returned", pgettext_lazy("disbursement status", "Returned")
    CANCELLED = "cancelled", pgettext_lazy("disbursement status", "Cancelled")


class ReceiptKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    STATEMENT = "statement", _("Year-end statement")


class LedgerKind(models.TextChoices):
    """What moved; each kind has fixed signs of its deltas (``LEDGER_SIGNS``)."""

    DONATION = "donation", pgettext_lazy("ledger entry", "Donation")
    REFUND = "refund", pgettext_lazy("ledger entry", "Refund")
    COMMITMENT = "commitment", pgettext_lazy("ledger entry", "Commitment")
    RELEASE = "release", pgettext_lazy("ledger entry", "Release")
    DISBURSEMENT = "disbursement", pgettext_lazy("ledger entry", "Disbursement")
    RETURN = "return", pgettext_lazy("ledger entry", "Return")
    ADJUSTMENT = "adjustment", pgettext_lazy("ledger entry", "Adjustment")


K = LedgerKind
#: kind → (sign of held_delta, sign of committed_delta): +1, -1, 0, or None (either sign).
LEDGER_SIGNS: dict[str, tuple[int | None, int]] = {
    K.DONATION: (1, 0),
    K.REFUND: (-1, 0),
    K.COMMITMENT: (0, 1),
    K.RELEASE: (0, -1),
    K.DISBURSEMENT: (-1, -1),
    K.RETURN: (1, 0),
    K.ADJUSTMENT: (None, 0),
}
