"""Forms of the vault: they parse and check input; the services write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from medexchange.catalog.choices import DocumentKind
from medexchange.documents.services import validate_dates
from medexchange.documents.uploads import ALL_TYPES, PDF_ONLY, CheckedUpload, check_upload

ACCEPT_ANY = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
ACCEPT_PDF = ".pdf,application/pdf"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class UploadField(forms.FileField):
    """A file checked by ``uploads.check_upload``; cleans to a ``CheckedUpload``."""

    def __init__(self, *, allowed: frozenset[str] = ALL_TYPES, **kwargs: Any) -> None:
        self.allowed = allowed
        accept = ACCEPT_PDF if allowed == PDF_ONLY else ACCEPT_ANY
        kwargs.setdefault("widget", forms.FileInput(attrs={"accept": accept}))
        kwargs.setdefault(
            "error_messages",
            {
                "required": _("Choose a file to upload."),
                "empty": _("The file is empty."),
                "invalid": _("No file was received. Choose the file again."),
            },
        )
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> CheckedUpload | None:
        upload = super().clean(data, initial)
        if upload is None or upload is False:
            return None
        return check_upload(upload, allowed=self.allowed)


def _upload_help(allowed: frozenset[str]) -> str:
    limit = filesizeformat(settings.DOCUMENT_MAX_UPLOAD_BYTES)
    if allowed == PDF_ONLY:
        return str(_("A PDF file of up to %(limit)s.") % {"limit": limit})
    return str(_("A PDF, JPEG or PNG file of up to %(limit)s.") % {"limit": limit})


class DocumentMetadataForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=DocumentKind.choices)
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        help_text=_("For example “Transcript, year 5” or “IELTS certificate”."),
    )
    issued_on = forms.DateField(label=_("Issued on"), widget=DateInput())
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=DateInput(),
        help_text=_("Leave empty if the document does not expire."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("issued_on"):
            try:
                validate_dates(issued_on=cleaned["issued_on"], expires_on=cleaned.get("expires_on"))
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned


class DocumentUploadForm(DocumentMetadataForm):
    file = UploadField(label=_("File"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _upload_help(ALL_TYPES)


class VersionUploadForm(forms.Form):
    file = UploadField(label=_("New version"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _upload_help(ALL_TYPES)


class RefereeRequestForm(forms.Form):
    referee_name = forms.CharField(label=_("Referee's name"), max_length=200)
    referee_email = forms.EmailField(label=_("Referee's e-mail address"))
    message = forms.CharField(
        label=_("Message to the referee"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Optional: what the letter is for, and any deadline."),
    )


class RefereeUploadForm(forms.Form):
    file = UploadField(label=_("Your letter (PDF)"), allowed=PDF_ONLY)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _upload_help(PDF_ONLY)
