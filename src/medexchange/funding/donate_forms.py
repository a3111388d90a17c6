"""The public donation form: amount (a preset or typed), currency, how often, who."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medexchange.funding import selectors
from medexchange.funding.choices import DonationFrequency
from medexchange.funding.models import Fund
from medexchange.funding.money import currency_choices, currency_name, parse_amount

#: Suggested amounts, in whichever currency the donor gives.
PRESETS = ("25", "50", "100", "250")
OTHER = "other"


class DonationForm(forms.Form):
    currency = forms.ChoiceField(
        label=_("Currency"),
        error_messages={
            "invalid_choice": _("“%(value)s” is not a currency we know (ISO 4217)."),
            "required": _("Choose the currency you give in."),
        },
    )
    preset = forms.ChoiceField(
        label=_("Amount"),
        help_text=_("In the currency chosen above."),
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of the amounts, or type another.")},
    )
    custom_amount = forms.CharField(
        label=_("Other amount"),
        required=False,
        max_length=20,
        help_text=_("Digits, with a dot for decimals: 40 or 12.50."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=[
            (DonationFrequency.ONE_OFF, _("Once")),
            (DonationFrequency.MONTHLY, _("Every month, until I stop it")),
        ],
        initial=DonationFrequency.ONE_OFF,
        widget=forms.RadioSelect,
    )
    donor_name = forms.CharField(
        label=_("Your name"),
        required=False,
        max_length=200,
        help_text=_("Printed on your receipt."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    is_anonymous = forms.BooleanField(
        label=_("Give anonymously: never show my name in public"), required=False
    )
    donor_email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_("We send your receipt there."),
        error_messages={"required": _("Give your e-mail address: your receipt goes there.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    dedication = forms.CharField(
        label=_("Dedication"),
        required=False,
        max_length=300,
        help_text=_("Optional: in honour or in memory of someone."),
    )
    memo = forms.CharField(
        label=_("A note to the fund"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, fund: Fund, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fund = fund
        others = [choice for choice in currency_choices() if choice[0] != fund.currency]
        own = (fund.currency, f"{fund.currency} — {currency_name(fund.currency)}")
        cast(forms.ChoiceField, self.fields["currency"]).choices = [own, *others]
        self.fields["currency"].initial = fund.currency
        self.fields["currency"].help_text = _(
            "Gifts in another currency are converted to %(currency)s at today's recorded rate."
        ) % {"currency": fund.currency}
        cast(forms.ChoiceField, self.fields["preset"]).choices = [
            *((p, p) for p in PRESETS),
            (OTHER, _("Other amount")),
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        currency = cleaned.get("currency")
        preset = cleaned.get("preset") or ""
        typed = (cleaned.get("custom_amount") or "").strip()
        if typed or preset == OTHER:
            text, field = typed, "custom_amount"
        else:
            text, field = preset, "preset"
        if not text:
            self.add_error("custom_amount", _("Choose an amount, or type another."))
            return cleaned
        if not currency:
            return cleaned
        try:
            amount: Decimal = parse_amount(text, currency)
        except ValidationError as error:
            self.add_error(field, error.messages)
            return cleaned
        cleaned["amount"] = amount
        if currency != self.fund.currency:
            rate = selectors.rate_on(
                currency, self.fund.currency, timezone.localdate(), network=self.fund.network
            )
            if rate is None:
                self.add_error(
                    "currency",
                    _(
                        "This fund cannot take gifts in %(currency)s yet: no exchange rate to "
                        "%(fund_currency)s is recorded. Please give in %(fund_currency)s."
                    )
                    % {"currency": currency, "fund_currency": self.fund.currency},
                )
        return cleaned

    def values(self) -> dict[str, Any]:
        """What ``donations.donation_checkout_start`` takes."""
        data = self.cleaned_data
        return {
            "amount": data["amount"],
            "currency": data["currency"],
            "frequency": data["frequency"],
            "donor_name": data.get("donor_name", ""),
            "donor_email": data.get("donor_email", ""),
            "is_anonymous": data.get("is_anonymous", False),
            "dedication": data.get("dedication", ""),
            "memo": data.get("memo", ""),
        }


#: Service error fields → this form's fields.
SERVICE_FIELDS = {"amount": "custom_amount", "rate": "currency"}


def add_donation_errors(form: DonationForm, error: ValidationError) -> None:
    """A service's errors on the form's fields (amount on the typed amount, a missing
    rate on the currency), the rest above it."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for field, messages in error.message_dict.items():
        target = SERVICE_FIELDS.get(field, field)
        for message in messages:
            form.add_error(target if target in form.fields else None, message)
