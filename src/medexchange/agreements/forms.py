"""Forms of the agreement pages; the services repeat every rule that matters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.utils.translation import gettext_lazy as _

from medexchange.agreements.choices import AgreementStatus
from medexchange.agreements.models import Agreement, Quota
from medexchange.agreements.selectors import active_member_ids
from medexchange.agreements.services import quota_problem
from medexchange.documents.forms import UploadField
from medexchange.documents.uploads import PDF_ONLY
from medexchange.network.models import Institution, Network


def _members() -> Any:
    return Institution.objects.members().order_by("name")


class AgreementForm(forms.ModelForm):
    class Meta:
        model = Agreement
        fields = [
            "title",
            "party_a",
            "party_b",
            "network",
            "first_year",
            "last_year",
            "tuition_waiver",
            "other_terms",
            "unit",
            "tolerance",
        ]
        labels = {"party_a": _("Your institution"), "party_b": _("Partner institution")}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        coordinated = Institution.objects.filter(pk__in=user.coordinated_institution_ids())
        if user.is_superuser:
            coordinated = _members()
        party_a: Any = self.fields["party_a"]
        party_b: Any = self.fields["party_b"]
        network: Any = self.fields["network"]
        party_a.queryset = (
            coordinated | Institution.objects.filter(pk=self.instance.party_a_id or 0)
        ).distinct()
        party_b.queryset = (
            _members() | Institution.objects.filter(pk=self.instance.party_b_id or 0)
        ).distinct()
        staffed = user.staffed_network_ids() if user.is_network_staff else Network.objects.none()
        network.queryset = (
            Network.objects.all() if staffed is None else Network.objects.filter(pk__in=staffed)
        )
        if not network.queryset.exists():
            del self.fields["network"]
        else:
            network.help_text = _(
                "Network-wide agreements only (staff): choose the network and leave both "
                "institutions empty."
            )
        if not coordinated.exists() and self.instance.party_a_id is None:
            del self.fields["party_a"]
            del self.fields["party_b"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first_year"), data.get("last_year")
        if first is not None and last is not None and last < first:
            self.add_error("last_year", _("The last academic year cannot be before the first."))
        if data.get("network") is None and not (data.get("party_a") or data.get("party_b")):
            if "party_b" in self.fields:
                self.add_error("party_b", _("Choose the partner institution."))
            else:
                self.add_error("network", _("Choose the network."))
        return data


class QuotaForm(forms.ModelForm):
    class Meta:
        model = Quota
        fields = ["sender", "host", "academic_year", "level", "specialty", "amount"]

    def __init__(self, *args: Any, parent: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parent = parent or {}
        for name in ("sender", "host"):
            field: Any = self.fields[name]
            field.queryset = _members()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.parent and not self.errors and data.get("amount"):
            network = self.parent.get("network")
            members = active_member_ids(network.pk) if network is not None else set()
            if network is not None or (self.parent.get("party_a") and self.parent.get("party_b")):
                problem = quota_problem(data, self.parent, members)
                if problem:
                    self.add_error(None, problem)
        return data


class BaseQuotaFormSet(BaseInlineFormSet):
    """The parent form's cleaned terms reach each quota form (set before validation)."""

    parent: dict[str, Any] | None = None

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "parent": self.parent}

    def quotas(self) -> list[dict[str, Any]]:
        return [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


QuotaFormSet = inlineformset_factory(
    Agreement,
    Quota,
    form=QuotaForm,
    formset=BaseQuotaFormSet,
    extra=2,
    can_delete=True,
    max_num=50,
    validate_max=True,
)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class DocumentForm(forms.Form):
    document = UploadField(label=_("Signed agreement (PDF)"), allowed=PDF_ONLY)


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *AgreementStatus.choices],
    )
    year = forms.IntegerField(
        label=_("Academic year"), required=False, min_value=2000, max_value=2100
    )


class YearForm(forms.Form):
    year = forms.IntegerField(
        label=_("Academic year"), required=False, min_value=2000, max_value=2100
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("pair", _("Institutions")),
            ("total", _("Most exchanged")),
            ("balance", _("Largest imbalance")),
        ],
    )
