"""Forms of applications: they parse input; the services validate and change state."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from medexchange.applications.models import ReviewCriterion
from medexchange.applications.services import REASON_MAX_LENGTH, STATEMENT_MAX_LENGTH


class DraftForm(forms.Form):
    """The statement and one vault document per required kind, plus any extras."""

    statement = forms.CharField(
        label=_("Personal statement"),
        required=False,
        max_length=STATEMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Why this opportunity, and what you will take home. Up to 5,000 characters."),
    )

    def __init__(self, *args: Any, requirements: list[Any], vault: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.requirements = requirements
        required_kinds = {row.kind for row in requirements}
        for row in requirements:
            choices = [("", _("— not attached yet —"))] + [
                (str(document.current_version.pk), _document_label(document))
                for document in row.available
                if document.current_version is not None
            ]
            self.fields[f"document_{row.kind}"] = forms.ChoiceField(
                label=row.label,
                choices=choices,
                required=False,
                initial=str(row.attached.pk) if row.attached else "",
            )
        extras = [
            document
            for document in vault
            if document.kind not in required_kinds and document.current_version is not None
        ]
        self.fields["extra_documents"] = forms.MultipleChoiceField(
            label=_("Other documents to attach"),
            choices=[
                (str(document.current_version.pk), _document_label(document)) for document in extras
            ],
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )

    def requirement_fields(self) -> list[tuple[Any, forms.BoundField]]:
        """Each required document with its field, for the template."""
        return [(row, self[f"document_{row.kind}"]) for row in self.requirements]

    def chosen_version_ids(self) -> list[int]:
        ids = [
            int(value)
            for name, value in self.cleaned_data.items()
            if name.startswith("document_") and value
        ]
        ids += [int(value) for value in self.cleaned_data.get("extra_documents", [])]
        return ids


def _document_label(document: Any) -> str:
    label = str(document.title or document.get_kind_display())
    if document.expires_on:
        label += " · " + str(_("expires %(date)s") % {"date": document.expires_on.isoformat()})
    return label


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RequiredReasonForm(ReasonForm):
    reason = forms.CharField(
        label=_("Reason (the applicant reads it)"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Please give a reason.")},
    )


# --------------------------------------------------------------------------- review work
# The host's queue filters, the review page's forms, endorsement (docs/reviewing.md).


class QueueFilterForm(forms.Form):
    """The review queue's GET filters: every value is optional, invalid ones are dropped."""

    q = forms.CharField(label=_("Applicant name"), required=False, max_length=100)
    state = forms.ChoiceField(label=_("Status"), required=False)
    country = forms.ChoiceField(label=_("Home country"), required=False)
    scored = forms.ChoiceField(
        label=_("My scores"),
        required=False,
        choices=[
            ("", _("Any")),
            ("mine", _("Scored by me")),
            ("unscored", _("Not scored by me")),
        ],
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("date", _("Oldest first")),
            ("-date", _("Newest first")),
            ("-score", _("Highest score first")),
            ("score", _("Lowest score first")),
            ("name", _("Applicant name")),
        ],
    )

    def __init__(
        self,
        *args: Any,
        states: list[tuple[str, str]],
        countries: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        state_field = cast(forms.ChoiceField, self.fields["state"])
        country_field = cast(forms.ChoiceField, self.fields["country"])
        state_field.choices = [("", _("Any")), *states]
        country_field.choices = [("", _("Any")), *countries]


class ScoreForm(forms.Form):
    """One whole-number field per criterion, 0 to its highest score; empty clears it."""

    #: The field name used when the opportunity has no criterion yet.
    DEFAULT_FIELD = "criterion_default"

    def __init__(self, *args: Any, criteria: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        if not criteria:
            self.fields[self.DEFAULT_FIELD] = forms.IntegerField(
                label=_("Overall"), required=False, min_value=0, max_value=5
            )
        for criterion in criteria:
            self.fields[f"criterion_{criterion.pk}"] = forms.IntegerField(
                label=criterion.name,
                required=False,
                min_value=0,
                max_value=criterion.max_score,
                help_text=criterion.description,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )

    def scores(self, default_id: int | None = None) -> dict[int, int | None]:
        """Criterion id → score (None clears); the default field maps to ``default_id``."""
        result: dict[int, int | None] = {}
        for name, value in self.cleaned_data.items():
            if name == self.DEFAULT_FIELD:
                if default_id is not None:
                    result[default_id] = value
            else:
                result[int(name.removeprefix("criterion_"))] = value
        return result


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Private comment (reviewers only)"),
        max_length=STATEMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write a comment first.")},
    )


class OfferForm(forms.Form):
    """The answer deadline is entered in the host's time zone: validate under it."""

    respond_by = forms.DateTimeField(
        label=_("Answer by"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    reason = forms.CharField(
        label=_("Message to the applicant (optional)"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_respond_by(self) -> Any:
        from django.utils import timezone

        value = self.cleaned_data["respond_by"]
        if value <= timezone.now():
            raise forms.ValidationError(_("The answer deadline must be in the future."))
        return value


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note to the host and the applicant (optional)"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CriterionForm(forms.ModelForm):
    class Meta:
        model = ReviewCriterion
        fields = ["name", "description", "weight", "max_score", "position"]
        help_texts = {
            "weight": _("How much this criterion counts (0.01 to 10)."),
            "max_score": _("Reviewers score from 0 to this number (1 to 10)."),
            "position": _("Criteria are listed in this order."),
        }


class CriterionDeleteForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, delete this criterion and the scores given against it"),
        required=True,
        error_messages={"required": _("Tick the box to confirm.")},
    )
