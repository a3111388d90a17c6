"""Forms of the scholarship pages. Amounts are typed as text and read by the services
(``funding.money.parse_amount``), so too many decimals are refused with a clear message
instead of being rounded by a number field; the services repeat every rule."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from medexchange.accounts.models import User
from medexchange.catalog.choices import OpportunityKind, TrainingLevel
from medexchange.funding.money import currency_choices, format_money, quantize
from medexchange.network.choices import EmStatus, IncomeGroup
from medexchange.scholarships.choices import Cover, Pin
from medexchange.scholarships.models import NEED_STATEMENT_MAX_LENGTH, ScholarshipCall


def _set(choices: Any) -> list[tuple[str, Any]]:
    return [(value, label) for value, label in choices.choices if value]


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class AmountField(forms.CharField):
    """Text, read by the service in the call's currency (too many decimals are refused)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 30)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})


class CallForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Who the call is for and what it funds, as applicants read it."),
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=())
    funds: forms.ModelMultipleChoiceField[Any] = forms.ModelMultipleChoiceField(
        label=_("Funds"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The awards draw on what these funds have available. Needed to open the call."),
    )
    amount_min = AmountField(label=_("Smallest amount"))
    amount_max = AmountField(label=_("Largest amount"))
    covers = forms.MultipleChoiceField(
        label=_("What the scholarships pay for"),
        choices=Cover.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    partial_awards = forms.BooleanField(
        label=_("Awards may be smaller than asked"),
        required=False,
        help_text=_(
            "Applicants may say the least that would still let them go; the allocation may "
            "then give less than asked (never below the smallest amount), so the money "
            "reaches more people."
        ),
    )
    eligible_em_statuses = forms.MultipleChoiceField(
        label=_("Home countries where Emergency Medicine is"),
        choices=_set(EmStatus),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: any country."),
    )
    eligible_income_groups = forms.MultipleChoiceField(
        label=_("Home-country income groups"),
        choices=_set(IncomeGroup),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: any income group."),
    )
    eligible_training_levels = forms.MultipleChoiceField(
        label=_("Training levels"),
        choices=TrainingLevel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: any training level."),
    )
    eligible_opportunity_kinds = forms.MultipleChoiceField(
        label=_("Kinds of opportunity"),
        choices=OpportunityKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: any kind."),
    )
    opens_at = forms.DateTimeField(label=_("Opens"), widget=DateTimeInput())
    closes_at = forms.DateTimeField(label=_("Closes"), widget=DateTimeInput())
    reviewers = forms.CharField(
        label=_("Reviewers"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "E-mail addresses of people of the network's members who score requests, one per "
            "line. The network's staff always may."
        ),
    )

    def __init__(
        self, *args: Any, network: Any, call: ScholarshipCall | None = None, **kwargs: Any
    ) -> None:
        from medexchange.funding.models import Fund

        if call is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{name: getattr(call, name) for name in CALL_VALUE_FIELDS},
                "amount_min": quantize(call.amount_min, call.currency),
                "amount_max": quantize(call.amount_max, call.currency),
                "funds": list(call.funds.all()),
                "reviewers": "\n".join(
                    call.reviewers.order_by("email").values_list("email", flat=True)
                ),
            }
        super().__init__(*args, **kwargs)
        self.call = call
        currency: Any = self.fields["currency"]
        currency.choices = currency_choices()
        funds: Any = self.fields["funds"]
        funds.queryset = Fund.objects.filter(network=network).filter(
            is_active=True
        ) | Fund.objects.filter(pk__in=call.funds.values("pk") if call else [])
        funds.queryset = funds.queryset.distinct().order_by("name", "pk")
        if call is not None and call.status != "draft":
            for name in self.fields:
                if name not in {"title", "description", "closes_at", "reviewers"}:
                    self.fields[name].disabled = True

    def clean_reviewers(self) -> list[User]:
        emails = [
            line.strip().lower()
            for line in self.cleaned_data.get("reviewers", "").replace(",", "\n").splitlines()
            if line.strip()
        ]
        found = {user.email: user for user in User.objects.filter(email__in=emails, is_active=True)}
        missing = [email for email in emails if email not in found]
        if missing:
            raise forms.ValidationError(
                _("Nobody has an account with: %(emails)s.") % {"emails": ", ".join(missing)}
            )
        return list({email: found[email] for email in emails}.values())

    def values(self) -> dict[str, Any]:
        """What to save; a disabled field (an open call's rules) keeps the call's value."""
        return {
            name: getattr(self.call, name)
            if self.call is not None and self.fields[name].disabled
            else self.cleaned_data.get(name)
            for name in CALL_VALUE_FIELDS
        }

    def chosen_funds(self) -> list[Any]:
        if self.call is not None and self.fields["funds"].disabled:
            return list(self.call.funds.all())
        return list(self.cleaned_data["funds"])


CALL_VALUE_FIELDS = (
    "title",
    "description",
    "currency",
    "eligible_em_statuses",
    "eligible_income_groups",
    "eligible_training_levels",
    "eligible_opportunity_kinds",
    "amount_min",
    "amount_max",
    "covers",
    "partial_awards",
    "opens_at",
    "closes_at",
)


class StatusForm(forms.Form):
    to = forms.ChoiceField(
        choices=[("open", "open"), ("reviewing", "reviewing"), ("closed", "closed")]
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000)


class RequestForm(forms.Form):
    need_statement = forms.CharField(
        label=_("Why you need the scholarship"),
        widget=forms.Textarea(attrs={"rows": 8, "maxlength": NEED_STATEMENT_MAX_LENGTH}),
        required=False,
        help_text=_(
            "What it would pay for, what you cannot cover yourself, and why. Up to 1,500 "
            "characters."
        ),
    )
    amount = AmountField(label=_("Amount you ask for"), required=False)
    least_amount = AmountField(label=_("The least that would still let you go"), required=False)
    covers = forms.MultipleChoiceField(
        label=_("What you need it for"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    consent_public_name = forms.BooleanField(
        label=_("My name may be shown publicly as a recipient"),
        required=False,
        help_text=_("Without this, donors' and impact pages never show who you are."),
    )

    def __init__(self, *args: Any, call: ScholarshipCall, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        covers: Any = self.fields["covers"]
        names = dict(Cover.choices)
        covers.choices = [(value, names.get(value, value)) for value in call.covers]
        amount: Any = self.fields["amount"]
        amount.help_text = _("Between %(min)s and %(max)s.") % {
            "min": format_money(call.amount_min, call.currency),
            "max": format_money(call.amount_max, call.currency),
        }
        if call.partial_awards:
            least: Any = self.fields["least_amount"]
            least.help_text = _(
                "Optional. This call may give less than asked so that more people can go: "
                "below this amount you could not take part. Empty: only the whole amount helps."
            )
        else:
            del self.fields["least_amount"]


class ReviewForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("Score"),
        coerce=int,
        choices=[(score, str(score)) for score in range(11)],
        help_text=_("0: no need shown · 10: the strongest case for support."),
    )
    comment = forms.CharField(
        label=_("Comment for the committee"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AdjustForm(forms.Form):
    pin = forms.ChoiceField(label=_("Decision"), choices=Pin.choices, required=False)
    amount = AmountField(
        label=_("Amount to award"),
        required=False,
        help_text=_("Empty: the amount requested."),
    )


class RunForm(forms.Form):
    """Nothing to fill in: the button proposes awards."""


class PlanForm(forms.Form):
    commitment: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Pay from"), queryset=None, empty_label=None
    )
    amount = AmountField(label=_("Amount"))
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)

    def __init__(self, *args: Any, award: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        commitment: Any = self.fields["commitment"]
        commitment.queryset = award.commitments.select_related("fund").order_by("fund__name")
        commitment.label_from_instance = lambda item: item.fund.name


class PayForm(forms.Form):
    paid_on = forms.DateField(label=_("Paid on"), widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label=_("Reference"), required=False, max_length=200)


class ReturnForm(forms.Form):
    returned_on = forms.DateField(
        label=_("Returned on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
