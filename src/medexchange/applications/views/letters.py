"""Letters: the host issues them, the people of the application download them as PDF,
the host's coordinators word them, and anyone checks a code on the public page."""

from __future__ import annotations

from typing import Any

# The public ``allauth.core.ratelimit.consume`` never limits GET requests; the lookups
# are GETs (a shareable link), so the internal one is asked to (django-allauth <66).
from allauth.core.internal import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medexchange.applications import letters
from medexchange.applications.choices import LetterKind
from medexchange.applications.letter_forms import LetterTemplateForm, VerifyLetterForm
from medexchange.applications.models import Application, Letter, LetterTemplate
from medexchange.catalog.permissions import catalog_hosts

#: ``settings.ACCOUNT_RATE_LIMITS`` entry for looking codes up, per IP address.
VERIFY_RATE_LIMIT = "letter_verify"


def _kind(kind: str) -> str:
    if kind not in LetterKind.values:
        raise Http404
    return kind


def _show_errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@login_required
@require_POST
def issue(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The host issues (or re-issues) a letter from the application's page."""
    application = get_object_or_404(Application.objects.reviewable_by(request.user), pk=pk)
    try:
        letters.letter_issue(application=application, kind=_kind(kind), actor=request.user)
    except ValidationError as error:
        _show_errors(request, error)
    except PermissionDenied:
        messages.error(request, _("Only the host's coordinators and reviewers issue letters."))
    else:
        messages.success(
            request,
            _("The %(letter)s is issued; the applicant is told.")
            % {"letter": LetterKind(kind).label},
        )
    return redirect(f"{application.get_absolute_url()}#letters-heading")


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    letter = get_object_or_404(
        Letter.objects.filter(
            application__in=Application.objects.reviewable_by(request.user)
        ).select_related("application__session__opportunity"),
        pk=pk,
    )
    try:
        letters.letter_revoke(
            letter=letter, actor=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        _show_errors(request, error)
    except PermissionDenied:
        messages.error(request, _("Only the host's coordinators and reviewers revoke letters."))
    else:
        messages.success(request, _("The letter is revoked."))
    return redirect(f"{letter.application.get_absolute_url()}#letters-heading")


@login_required
@require_GET
def download(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The letter in force as a PDF: for the applicant, the host and the home institution."""
    application = get_object_or_404(
        Application.objects.visible_to(request.user).select_related(
            "applicant", "session__opportunity__host__country"
        ),
        pk=pk,
    )
    letter = letters.latest_letter(application, _kind(kind))
    if letter is None:
        raise Http404
    letter.application = application
    response = HttpResponse(letters.render_letter_pdf(letter), content_type="application/pdf")
    filename = f"{kind.replace('_', '-')}-letter-{letter.verification_code}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def templates(request: HttpRequest, slug: str) -> HttpResponse:
    """The host's coordinators word both letters; "Preview" shows one filled with samples."""
    institution = get_object_or_404(
        catalog_hosts(request.user).select_related("country"), slug=slug
    )
    saved = {row.kind: row for row in LetterTemplate.objects.filter(institution=institution)}
    posted = request.POST.get("kind") if request.method == "POST" else None
    forms: list[dict[str, Any]] = []
    for kind, label in LetterKind.choices:
        row = saved.get(kind)
        initial = {
            "body": row.body if row else letters.default_body(kind),
            "signatory_name": row.signatory_name if row else "",
            "signatory_title": row.signatory_title if row else "",
        }
        form = LetterTemplateForm(
            request.POST if posted == kind else None, initial=initial, prefix=kind
        )
        preview = ""
        if posted == kind and form.is_valid():
            if request.POST.get("action") == "preview":
                preview = letters.fill(form.cleaned_data["body"], letters.sample_facts(institution))
            else:
                try:
                    letters.letter_template_save(
                        institution=institution,
                        kind=kind,
                        actor=request.user,
                        values=form.cleaned_data,
                    )
                except ValidationError as error:
                    if hasattr(error, "error_dict"):
                        for field, errors in error.message_dict.items():
                            form.add_error(field if field in form.fields else None, errors)
                    else:
                        form.add_error(None, error)
                else:
                    messages.success(request, _("The %(letter)s is saved.") % {"letter": label})
                    return redirect("applications:letter-templates", slug=institution.slug)
        forms.append({"kind": kind, "label": label, "form": form, "saved": row, "preview": preview})
    return render(
        request,
        "applications/letters/templates.html",
        {
            "institution": institution,
            "forms": forms,
            "placeholders": [f"{{{name}}}" for name in letters.PLACEHOLDERS],
        },
    )


def _rate_limited(request: HttpRequest) -> HttpResponse | None:
    if ratelimit.consume(request, app="allauth.account", action=VERIFY_RATE_LIMIT, limit_get=True):
        return None
    return render(
        request,
        "applications/letters/verify.html",
        {
            "form": VerifyLetterForm(),
            "too_many": True,
        },
        status=429,
    )


@require_GET
def verify(request: HttpRequest) -> HttpResponse:
    """A form to type the code printed on a letter; ``?code=…`` goes to its page."""
    form = VerifyLetterForm(request.GET if "code" in request.GET else None)
    if form.is_valid():
        code = form.cleaned_data["code"]
        if letters.is_code_shaped(code):
            return redirect("applications:verify-letter", code=code)
        context = {"form": form, "unknown": code}
        return render(request, "applications/letters/verify.html", context, status=404)
    return render(request, "applications/letters/verify.html", {"form": form})


@require_GET
def verify_letter(request: HttpRequest, code: str) -> HttpResponse:
    """Public: what the letter certifies and whether it is valid; nothing else personal."""
    normalised = letters.normalise_code(code)
    if not normalised:
        return redirect("applications:verify")
    if normalised != code:
        return redirect("applications:verify-letter", code=normalised)
    limited = _rate_limited(request)
    if limited is not None:
        return limited
    letter = (
        Letter.objects.filter(verification_code=normalised).first()
        if letters.is_code_shaped(normalised)
        else None
    )
    if letter is None:
        return render(
            request,
            "applications/letters/verify.html",
            {"form": VerifyLetterForm(initial={"code": normalised}), "unknown": normalised},
            status=404,
        )
    response = render(request, "applications/letters/verified.html", {"letter": letter})
    response["X-Robots-Tag"] = "noindex"
    return response
