"""Back-office views of the money: read-only. Every change goes through ``services``
(locks, ledger entries, audit); the ledger itself is append-only."""

from django.contrib import admin

from medexchange.applications.admin import ReadOnlyAdmin
from medexchange.funding.models import (
    Commitment,
    Disbursement,
    Donation,
    ExchangeRate,
    Fund,
    LedgerEntry,
    Pledge,
    ProviderEvent,
    Receipt,
)


@admin.register(Fund)
class FundAdmin(ReadOnlyAdmin):
    list_display = ["name", "network", "slug", "purpose", "currency", "is_public", "is_active"]
    list_filter = ["purpose", "is_public", "is_active", "currency"]
    search_fields = ["name", "slug", "network__name"]
    list_select_related = ["network"]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ReadOnlyAdmin):
    list_display = ["on", "from_currency", "to_currency", "rate", "network", "source"]
    list_filter = ["from_currency", "to_currency"]
    list_select_related = ["network"]
    date_hierarchy = "on"


@admin.register(Donation)
class DonationAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "fund",
        "amount",
        "currency",
        "fund_amount",
        "method",
        "status",
        "received_on",
        "donor_name",
    ]
    list_filter = ["status", "method", "currency"]
    search_fields = ["donor_name", "donor_email", "provider_reference", "memo", "fund__name"]
    list_select_related = ["fund"]
    date_hierarchy = "created_at"


@admin.register(Pledge)
class PledgeAdmin(ReadOnlyAdmin):
    list_display = ["pk", "fund", "amount", "currency", "frequency", "status", "created_at"]
    list_filter = ["status", "frequency"]
    search_fields = ["donor_email", "provider_reference"]
    list_select_related = ["fund"]


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "type", "event_id", "processed_at"]
    list_filter = ["provider", "type"]
    search_fields = ["event_id"]


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ["label", "kind", "issued_at", "donor_email", "language"]
    list_filter = ["kind", "fiscal_year"]
    search_fields = ["donor_email"]


@admin.register(Commitment)
class CommitmentAdmin(ReadOnlyAdmin):
    list_display = ["pk", "fund", "amount", "purpose", "created_at"]
    search_fields = ["purpose", "fund__name"]
    list_select_related = ["fund"]


@admin.register(Disbursement)
class DisbursementAdmin(ReadOnlyAdmin):
    list_display = ["pk", "commitment", "amount", "status", "paid_on", "returned_on"]
    list_filter = ["status"]
    list_select_related = ["commitment"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "fund", "kind", "held_delta", "committed_delta", "actor"]
    list_filter = ["kind"]
    search_fields = ["memo", "fund__name"]
    list_select_related = ["fund", "actor"]
    date_hierarchy = "created_at"
