from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from medexchange.common.languages import language_choices
from medexchange.network.choices import JoinRequestStatus, OfferKind
from medexchange.network.models import CountryProfile, Institution, JoinRequest, Network, Site
from medexchange.network.services import INSTITUTION_EDITABLE_FIELDS


class CountryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.name


def country_field() -> CountryChoiceField:
    return CountryChoiceField(
        label=_("Country"),
        queryset=CountryProfile.objects.all(),
        to_field_name="code",
    )


class JoinRequestForm(forms.ModelForm):
    """The public application to join a network."""

    country = country_field()
    languages = forms.MultipleChoiceField(
        label=_("Working languages"),
        choices=language_choices,
        required=False,
        help_text=_("Hold Ctrl (or ⌘ on a Mac) to choose several."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    can_offer = forms.MultipleChoiceField(
        label=_("What your institution can offer"),
        choices=OfferKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    agrees_to_values = forms.BooleanField(
        label=_("We have read the network's values and agree to uphold them."),
        error_messages={"required": _("Members must agree to the network's values.")},
    )

    class Meta:
        model = JoinRequest
        fields = [
            "network",
            "institution_name",
            "kind",
            "country",
            "city",
            "address",
            "latitude",
            "longitude",
            "website",
            "languages",
            "description",
            "contact_name",
            "contact_position",
            "contact_email",
            "contact_phone",
            "can_offer",
            "places_per_year",
            "offer_details",
            "agrees_to_values",
        ]
        help_texts = {
            "latitude": _("Decimal degrees, e.g. -1.2833. Most map apps show it on a long press."),
            "longitude": _("Decimal degrees, e.g. 36.8167."),
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "offer_details": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        network_field = cast(forms.ModelChoiceField, self.fields["network"])
        network_field.queryset = Network.objects.all()
        network_field.empty_label = None


class JoinDecisionForm(forms.Form):
    APPROVE = "approve"
    DECLINE = "decline"

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(APPROVE, _("Approve")), (DECLINE, _("Decline"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Note to the applicant"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when declining; the applicant reads it."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == self.DECLINE and not data.get("reason", "").strip():
            self.add_error("reason", _("Give the applicant a reason for declining."))
        return data


class JoinQueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=JoinRequestStatus.choices,
        required=False,
        initial=JoinRequestStatus.SUBMITTED,
    )


class InstitutionForm(forms.ModelForm):
    country = country_field()
    languages = forms.MultipleChoiceField(
        label=_("Working languages"), choices=language_choices, required=False
    )

    class Meta:
        model = Institution
        fields = list(INSTITUTION_EDITABLE_FIELDS)
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = ["name", "kind", "city", "address", "latitude", "longitude", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class CountryProfileForm(forms.ModelForm):
    class Meta:
        model = CountryProfile
        fields = ["region", "subregion", "income_group", "em_status", "em_recognised_year"]
