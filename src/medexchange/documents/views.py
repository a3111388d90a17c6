"""Pages of the vault: the applicant's documents, referee requests, the referee's upload
page, and the one view that sends a stored file."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medexchange.documents import selectors, services
from medexchange.documents.choices import RefereeRequestStatus
from medexchange.documents.forms import (
    DocumentMetadataForm,
    DocumentUploadForm,
    RefereeRequestForm,
    RefereeUploadForm,
    VersionUploadForm,
)
from medexchange.documents.models import (
    Document,
    DocumentVersion,
    RefereeRequest,
    private_storage,
)
from medexchange.documents.uploads import JPEG, PDF, PNG

logger = logging.getLogger(__name__)

INLINE_TYPES = {PDF, PNG, JPEG}
# A stored file is never a page of the site: no scripts, no plugins, no forms.
ATTACHMENT_POLICY = "default-src 'none'; sandbox"
INLINE_IMAGE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
# Chrome and Safari refuse to start their PDF viewer in a sandboxed document, so a PDF
# viewed inline goes without "sandbox"; it still may load nothing and run nothing of ours,
# and nosniff with the content type detected at upload keeps it from being read as HTML.
INLINE_PDF_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"


def _data(request: HttpRequest) -> Any:
    """A form's data: bound on POST even when empty (so a missing file is an error)."""
    return request.POST if request.method == "POST" else None


def _files(request: HttpRequest) -> Any:
    return request.FILES if request.method == "POST" else None


def _apply_service(form: Form, error: ValidationError) -> None:
    """A service's refusal, shown at the field it names or above the form."""
    if hasattr(error, "error_dict"):
        form.add_error(None, error)
    else:
        form.add_error(None, error.messages)


@login_required
@require_GET
def document_list(request: HttpRequest) -> HttpResponse:
    """My documents: each with its type, dates, expiry flag and versions; my referee requests."""
    today = timezone.localdate()
    documents = list(selectors.vault_for(request.user))
    for document in documents:
        document.flag = document.expiry_flag(today)  # type: ignore[attr-defined]
    referee_requests = list(
        RefereeRequest.objects.visible_to(request.user).select_related("document")
    )
    now = timezone.now()
    for referee_request in referee_requests:
        referee_request.current_status = referee_request.status(now)  # type: ignore[attr-defined]
    context = {
        "documents": documents,
        "referee_requests": referee_requests,
        "statuses": RefereeRequestStatus,
    }
    return render(request, "documents/document_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def document_upload(request: HttpRequest) -> HttpResponse:
    form = DocumentUploadForm(_data(request), _files(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            document = services.document_create(
                owner=request.user,
                kind=data["kind"],
                title=data["title"],
                issued_on=data["issued_on"],
                expires_on=data["expires_on"],
                upload=data["file"],
                actor=request.user,
            )
        except ValidationError as error:
            _apply_service(form, error)
        else:
            messages.success(request, _("“%(title)s” is in your vault.") % {"title": document})
            return redirect(document)
    return render(request, "documents/document_form.html", {"form": form, "document": None})


@login_required
@require_http_methods(["GET", "POST"])
def document_edit(request: HttpRequest, pk: int) -> HttpResponse:
    document = get_object_or_404(Document.objects.editable_by(request.user), pk=pk)
    initial = {
        "kind": document.kind,
        "title": document.title,
        "issued_on": document.issued_on,
        "expires_on": document.expires_on,
    }
    form = DocumentMetadataForm(_data(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.document_update(document=document, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_service(form, error)
        else:
            messages.success(request, _("“%(title)s” saved.") % {"title": document})
            return redirect(document)
    return render(request, "documents/document_form.html", {"form": form, "document": document})


@login_required
@require_http_methods(["GET", "POST"])
def version_upload(request: HttpRequest, pk: int) -> HttpResponse:
    document = get_object_or_404(Document.objects.editable_by(request.user), pk=pk)
    form = VersionUploadForm(_data(request), _files(request))
    if request.method == "POST" and form.is_valid():
        try:
            version = services.document_add_version(
                document=document, upload=form.cleaned_data["file"], actor=request.user
            )
        except ValidationError as error:
            _apply_service(form, error)
        else:
            messages.success(
                request,
                _("Version %(number)s of “%(title)s” uploaded.")
                % {"number": version.number, "title": document},
            )
            return redirect(document)
    return render(request, "documents/version_form.html", {"form": form, "document": document})


@login_required
@require_http_methods(["GET", "POST"])
def document_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST deletes (or, if an application holds it, hides it)."""
    document = get_object_or_404(Document.objects.visible_to(request.user), pk=pk)
    if request.method == "POST":
        title = document.title
        if services.document_delete(document=document, actor=request.user):
            messages.success(
                request, _("“%(title)s” and its files are deleted.") % {"title": title}
            )
        else:
            messages.success(
                request,
                _(
                    "“%(title)s” is removed from your vault. The applications it is attached "
                    "to keep their copy."
                )
                % {"title": title},
            )
        return redirect("documents:list")
    return render(request, "documents/document_confirm_delete.html", {"document": document})


@login_required
@require_GET
def version_download(request: HttpRequest, pk: int) -> HttpResponse:
    """Send one version's file to someone allowed to open it, and record that they did.

    ``?inline=1`` shows a PDF or an image in the browser (for reviewers reading side by
    side); otherwise the file is an attachment.
    """
    version = get_object_or_404(
        DocumentVersion.objects.visible_to(request.user).select_related("document"), pk=pk
    )
    inline = request.GET.get("inline") == "1" and version.content_type in INLINE_TYPES
    try:
        # Read whole (uploads are at most DOCUMENT_MAX_UPLOAD_BYTES) so no file handle
        # outlives the request, whatever the storage backend.
        with private_storage().open(version.storage_name, "rb") as handle:
            content = handle.read()
    except OSError:
        logger.exception("Document version %s has no file in the private storage", version.pk)
        raise Http404 from None
    services.document_access_record(
        version=version, user=request.user, ip=request.META.get("REMOTE_ADDR"), inline=inline
    )
    response = HttpResponse(content, content_type=version.content_type)
    response["Content-Length"] = str(len(content))
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=not inline, filename=version.original_name)
        or "attachment"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    if not inline:
        response["Content-Security-Policy"] = ATTACHMENT_POLICY
    elif version.content_type == PDF:
        response["Content-Security-Policy"] = INLINE_PDF_POLICY
    else:
        response["Content-Security-Policy"] = INLINE_IMAGE_POLICY
    if inline:
        # The review page shows it in an <iframe> beside the file (docs/reviewing.md);
        # only pages of this site may frame it (the policies above set no frame-ancestors).
        response["X-Frame-Options"] = "SAMEORIGIN"
    return response


# --- Referee letters --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def referee_request_new(request: HttpRequest) -> HttpResponse:
    form = RefereeRequestForm(_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            referee_request, _token = services.referee_request_create(
                applicant=request.user, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            _apply_service(form, error)
        else:
            messages.success(
                request,
                _(
                    "We e-mailed %(name)s a link to upload the letter. You will be told here "
                    "when it arrives."
                )
                % {"name": referee_request.referee_name},
            )
            return redirect("documents:list")
    return render(request, "documents/referee_request_form.html", {"form": form})


def _referee_request_action(request: HttpRequest, pk: int, action: Any, done: str) -> HttpResponse:
    referee_request = get_object_or_404(RefereeRequest.objects.editable_by(request.user), pk=pk)
    try:
        action(referee_request=referee_request, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done % {"name": referee_request.referee_name})
    return redirect("documents:list")


@login_required
@require_POST
def referee_request_resend(request: HttpRequest, pk: int) -> HttpResponse:
    return _referee_request_action(
        request,
        pk,
        services.referee_request_resend,
        _("The request to %(name)s was sent again with a new link."),
    )


@login_required
@require_POST
def referee_request_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _referee_request_action(
        request,
        pk,
        services.referee_request_cancel,
        _("The request to %(name)s is cancelled; its link no longer works."),
    )


@require_http_methods(["GET", "POST"])
def referee_upload(request: HttpRequest, token: str) -> HttpResponse:
    """The referee's page: no account, one PDF, once. The link is the credential."""
    referee_request = selectors.referee_request_for_token(token)
    if referee_request is None:
        return render(request, "documents/referee_link_invalid.html", {"reason": None}, status=404)
    if not referee_request.is_open():
        reason = {"reason": referee_request.status(), "statuses": RefereeRequestStatus}
        return render(request, "documents/referee_link_invalid.html", reason, status=410)
    form = RefereeUploadForm(_data(request), _files(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.referee_letter_upload(
                referee_request=referee_request, upload=form.cleaned_data["file"]
            )
        except ValidationError as error:
            _apply_service(form, error)
        else:
            return render(
                request, "documents/referee_thanks.html", {"referee_request": referee_request}
            )
    context = {"form": form, "referee_request": referee_request}
    return render(request, "documents/referee_upload.html", context)
