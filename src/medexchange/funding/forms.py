"""Forms of the finance staff's pages. They read the fields; every rule that matters
(amounts, currencies, rates, who may) is the services', whose errors land on the fields."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from medexchange.funding.bank_import import MAX_BYTES
from medexchange.funding.choices import OFFLINE_METHODS, DonationMethod, FundPurpose
from medexchange.funding.models import Fund
from medexchange.funding.money import currency_choices, quantize
from medexchange.network.choices import EmStatus


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class OfflineGiftForm(forms.Form):
    method = forms.ChoiceField(
        label=_("How it was given"),
        choices=[(method.value, method.label) for method in OFFLINE_METHODS],
        initial=DonationMethod.CHEQUE,
    )
    amount = forms.CharField(
        label=_("Amount"),
        max_length=40,
        help_text=_("With a dot for decimals, e.g. 250.00."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    currency = forms.ChoiceField(label=_("Currency of the gift"))
    rate = forms.CharField(
        label=_("Exchange rate"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    received_on = forms.DateField(label=_("Received on"), widget=DateInput())
    donor_name = forms.CharField(label=_("Donor's name"), max_length=200, required=False)
    donor_email = forms.CharField(
        label=_("Donor's e-mail"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        help_text=_("For the receipt; may be left empty."),
    )
    is_anonymous = forms.BooleanField(
        label=_("The donor wants to stay anonymous in public"), required=False
    )
    reference = forms.CharField(
        label=_("Bank reference"),
        max_length=200,
        required=False,
        help_text=_(
            "Bank transfers: the bank's reference, so the same transfer is never recorded "
            "twice (a bank CSV import skips it too)."
        ),
    )
    memo = forms.CharField(
        label=_("Memo"),
        max_length=500,
        required=False,
        help_text=_("As written on the cheque or the transfer."),
    )
    language = forms.ChoiceField(
        label=_("Donor's language"),
        choices=settings.LANGUAGES,
        required=False,
        help_text=_("The receipt and its e-mail are written in it."),
    )
    issue_receipt = forms.BooleanField(
        label=_("Issue the receipt now and e-mail it to the donor"),
        required=False,
        initial=True,
        help_text=_(
            "Leave it unticked to issue receipts later, all at once, from the fund's Receipts page."
        ),
    )

    def __init__(self, *args: Any, fund: Fund, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        page_language = translation.get_language() or settings.LANGUAGE_CODE
        self.fields["language"].initial = (
            page_language if page_language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        )
        currency: Any = self.fields["currency"]
        currency.choices = currency_choices()
        currency.initial = fund.currency
        self.fields["received_on"].initial = timezone.localdate
        self.fields["rate"].help_text = _(
            "Only for a gift in another currency than %(currency)s: 1 unit of the gift's "
            "currency = ? %(currency)s. Leave it empty to use the rate recorded for the day."
        ) % {"currency": fund.currency}


class RefundForm(forms.Form):
    amount = forms.CharField(
        label=_("Amount to give back"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the fund's ledger and the audit log, e.g. “Asked by the donor”."),
    )
    # What the page showed refunded: a form sent twice, or after someone else's refund,
    # is refused instead of giving back twice.
    refunded_before = forms.DecimalField(widget=forms.HiddenInput, required=False)

    def clean_refunded_before(self) -> Decimal | None:
        value = self.cleaned_data.get("refunded_before")
        return value if isinstance(value, Decimal) else None


class BankImportForm(forms.Form):
    file = forms.FileField(
        label=_("Bank statement (CSV, UTF-8)"),
        help_text=_("At most 2 MB; the first row names the columns."),
    )
    default_fund = forms.ModelChoiceField(
        label=_("Fund for rows whose memo names no fund"),
        queryset=Fund.objects.none(),
        required=False,
        empty_label=_("None: such rows are errors"),
    )

    def __init__(self, *args: Any, funds: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        default_fund: Any = self.fields["default_fund"]
        default_fund.queryset = funds

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB: split it."))
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload


class ExchangeRateForm(forms.Form):
    from_currency = forms.ChoiceField(label=_("From"))
    to_currency = forms.ChoiceField(label=_("To"))
    rate = forms.CharField(
        label=_("Rate"),
        max_length=40,
        help_text=_("1 unit of the first currency = this many units of the second."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    on = forms.DateField(label=_("On"), widget=DateInput())
    source = forms.CharField(
        label=_("Source"),
        max_length=200,
        required=False,
        help_text=_("Where the rate comes from, e.g. the bank's statement."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("from_currency", "to_currency"):
            choice: Any = self.fields[name]
            choice.choices = currency_choices()
        self.fields["on"].initial = timezone.localdate


class FundForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.CharField(
        label=_("Short name"),
        max_length=80,
        help_text=_("Letters, digits and hyphens; used in web addresses and bank memos."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, max_length=10000, widget=forms.Textarea
    )
    purpose = forms.ChoiceField(label=_("Purpose"), choices=FundPurpose.choices)
    restriction = forms.CharField(
        label=_("Restriction"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the money may be used for, as donors read it."),
    )
    eligible_em_statuses = forms.MultipleChoiceField(
        label=_("Only for participants from countries where Emergency Medicine is"),
        choices=[(status.value, status.label) for status in EmStatus if status.value],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: participants from any country."),
    )
    currency = forms.ChoiceField(label=_("Currency"))
    target = forms.CharField(
        label=_("Target"),
        required=False,
        max_length=40,
        help_text=_("Optional: the amount the fund hopes to raise."),
    )
    is_public = forms.BooleanField(label=_("Shown to the public"), required=False, initial=True)
    is_active = forms.BooleanField(label=_("Open to gifts"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        currency: Any = self.fields["currency"]
        currency.choices = currency_choices()
        currency.initial = "EUR"

    @staticmethod
    def initial_of(fund: Fund) -> dict[str, Any]:
        return {
            "name": fund.name,
            "slug": fund.slug,
            "description": fund.description,
            "purpose": fund.purpose,
            "restriction": fund.restriction,
            "eligible_em_statuses": fund.eligible_em_statuses,
            "currency": fund.currency,
            "target": "" if fund.target is None else str(quantize(fund.target, fund.currency)),
            "is_public": fund.is_public,
            "is_active": fund.is_active,
        }
