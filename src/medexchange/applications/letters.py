"""Acceptance and visa-support letters: their wording, their PDF, and the services that
issue and revoke them.

A letter is filled from the host's ``LetterTemplate`` (or a default text per kind) in the
applicant's preferred language, and its facts are copied into the ``Letter`` row at issue,
so the public verification page (``/verify/<code>/``) tells what was certified even after
the session or the template changed. The PDF is rendered on each download from that row.

The services live here rather than in ``services.py`` because everything about letters
is in one place; they follow the same rules (validate, lock, write, audit, notify).

WeasyPrint renders the PDF with a URL fetcher that refuses everything but inline
``data:`` URLs: a letter never makes the server fetch anything over the network.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from medexchange.applications.choices import ApplicationState, LetterKind
from medexchange.applications.models import Application, Letter, LetterTemplate
from medexchange.applications.permissions import can_decide, can_manage_host
from medexchange.applications.services import (
    REASON_MAX_LENGTH,
    _clean_text,
    _lock,
    _tell_applicant,
)
from medexchange.common.services import audit_record

S = ApplicationState

#: A letter certifies a place: it is issued once the applicant holds one.
LETTER_STATES = frozenset({S.ACCEPTED, S.CONFIRMED, S.IN_PROGRESS})
PLACEHOLDERS = ("applicant", "opportunity", "start", "end", "host", "city", "country")
PLACEHOLDER_PATTERN = re.compile(r"\{([a-z_]+)\}")
BODY_MAX_LENGTH = 10000

#: The text used when the host has written no template of that kind (translated into the
#: applicant's language at issue).
DEFAULT_BODIES: dict[str, str] = {
    LetterKind.ACCEPTANCE: gettext_noop(
        "To whom it may concern,\n\n"
        "We are pleased to confirm that {applicant} has been accepted to {opportunity} "
        "at {host}, {city}, {country}, from {start} to {end}.\n\n"
        "The participant will take part in the programme's clinical and educational "
        "activities under the supervision of our faculty.\n\n"
        "Please do not hesitate to contact us should you need any further information."
    ),
    LetterKind.VISA_SUPPORT: gettext_noop(
        "To the consular officer,\n\n"
        "{host} in {city}, {country}, confirms that {applicant} has been accepted to "
        "{opportunity} from {start} to {end}, an educational exchange that requires the "
        "participant's presence in {country} for these dates.\n\n"
        "We kindly ask you to grant the participant the visa or entry permit needed for "
        "this stay. The participant will leave {country} at the end of the programme.\n\n"
        "You can check this letter with the verification code below."
    ),
}


# --------------------------------------------------------------------------- wording


def language_of(application: Application) -> str:
    """The applicant's preferred language (English for a former applicant)."""
    applicant = application.applicant
    return (applicant.preferred_language if applicant is not None else "") or "en"


def letter_facts(application: Application) -> dict[str, str]:
    """The placeholder values, formatted in the active language."""
    session = application.session
    host = session.opportunity.host
    applicant = application.applicant
    return {
        "applicant": applicant.get_full_name() if applicant is not None else "",
        "opportunity": session.opportunity.title,
        "start": date_format(session.start_date, "DATE_FORMAT"),
        "end": date_format(session.end_date, "DATE_FORMAT"),
        "host": host.name,
        "city": host.city,
        "country": str(host.country),
    }


def sample_facts(institution: Any) -> dict[str, str]:
    """Made-up values for the template preview."""
    start = timezone.localdate() + dt.timedelta(days=90)
    return {
        "applicant": _("Jane Participant"),
        "opportunity": _("Clinical elective in emergency medicine"),
        "start": date_format(start, "DATE_FORMAT"),
        "end": date_format(start + dt.timedelta(days=27), "DATE_FORMAT"),
        "host": institution.name,
        "city": institution.city,
        "country": str(institution.country),
    }


def fill(body: str, facts: Mapping[str, str]) -> str:
    """Replace the known ``{placeholders}``; any other brace is left as written.

    Deliberately not ``str.format``: a host's text must not reach attributes or raise.
    """
    return PLACEHOLDER_PATTERN.sub(lambda match: facts.get(match.group(1), match.group(0)), body)


def unknown_placeholders(body: str) -> list[str]:
    return sorted({name for name in PLACEHOLDER_PATTERN.findall(body) if name not in PLACEHOLDERS})


def default_body(kind: str) -> str:
    """The default wording of ``kind`` in the active language."""
    return _(DEFAULT_BODIES[kind])


# --------------------------------------------------------------------------- rendering


def refuse_remote_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """WeasyPrint's URL fetcher: inline ``data:`` URLs only, never the network or disk."""
    if url.startswith("data:"):
        from weasyprint import default_url_fetcher  # type: ignore[import-untyped]

        result: dict[str, Any] = default_url_fetcher(url, *args, **kwargs)
        return result
    raise ValueError(f"Letters load no external resource (refused {url[:80]!r}).")


def verification_url(letter: Letter) -> str:
    return settings.SITE_URL.rstrip("/") + letter.get_verification_url()


def render_letter_html(letter: Letter) -> str:
    """The letter as a stand-alone HTML page (A4), in the applicant's language."""
    application = letter.application
    host = application.session.opportunity.host
    language = language_of(application)
    with translation.override(language):
        return render_to_string(
            "applications/letters/letter.html",
            {
                "letter": letter,
                "host": host,
                "language": language,
                "bidi": translation.get_language_bidi(),
                "issued_on": timezone.localtime(letter.issued_at).date(),
                "paragraphs": [part for part in letter.body.split("\n\n") if part.strip()],
                "verification_url": verification_url(letter),
            },
        )


def render_letter_pdf(letter: Letter) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(
        string=render_letter_html(letter), url_fetcher=refuse_remote_fetch
    ).write_pdf()
    return pdf


def latest_letter(application: Application, kind: str) -> Letter | None:
    """The letter of ``kind`` in force: the latest one not revoked."""
    return (
        application.letters.filter(kind=kind, revoked_at__isnull=True)
        .order_by("-issued_at", "-pk")
        .first()
    )


def normalise_code(value: str) -> str:
    """What a person types from a printed letter: any case, spaces or dashes."""
    return re.sub(r"[\s\-]", "", value or "").upper()[:32]


#: Codes are letters and digits (``models._verification_code``); anything else matches no
#: letter, and must neither reach the database (PostgreSQL refuses NUL characters) nor a
#: URL (a "/" has no reverse).
CODE_SHAPE = re.compile(r"[A-Z0-9]+")


def is_code_shaped(code: str) -> bool:
    return CODE_SHAPE.fullmatch(code) is not None


# --------------------------------------------------------------------------- services


def letter_issue(*, application: Application, kind: str, actor: Any) -> Letter:
    """Issue a letter of ``kind`` for an application holding a place.

    The host's coordinators and reviewers issue it; a letter of the same kind still in
    force is revoked (superseded), so exactly one verifies as valid.
    """
    if kind not in LetterKind.values:
        raise ValidationError(_("Unknown kind of letter."), code="unknown_kind")
    if not can_decide(actor, application):
        raise PermissionDenied
    with transaction.atomic():
        _session, application = _lock(application)
        if application.state not in LETTER_STATES:
            raise ValidationError(
                _(
                    "Letters are issued once the applicant has accepted a place; this "
                    "application is “%(state)s”."
                )
                % {"state": S(application.state).label},
                code="not_accepted",
            )
        applicant = application.applicant
        if applicant is None:
            raise ValidationError(_("This applicant deleted their account."), code="no_applicant")
        session = application.session
        host = session.opportunity.host
        template = LetterTemplate.objects.filter(institution=host, kind=kind).first()
        with translation.override(language_of(application)):
            wording = template.body if template is not None else default_body(kind)
            body = fill(wording, letter_facts(application))
        now = timezone.now()
        superseded = list(
            Letter.objects.select_for_update().filter(
                application=application, kind=kind, revoked_at__isnull=True
            )
        )
        for old in superseded:
            old.revoked_at = now
            old.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor,
                action="application.letter_revoked",
                target=application,
                reason="superseded",
                data={"letter": old.pk, "kind": kind, "code": old.verification_code},
            )
        letter = Letter.objects.create(
            application=application,
            kind=kind,
            holder_name=applicant.get_full_name()[:200],
            host_name=host.name[:200],
            opportunity_title=session.opportunity.title[:200],
            start_date=session.start_date,
            end_date=session.end_date,
            body=body,
            signatory_name=template.signatory_name if template else host.name[:200],
            signatory_title=template.signatory_title if template else "",
            issued_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            actor=actor,
            action="application.letter_issued",
            target=application,
            data={"letter": letter.pk, "kind": kind, "code": letter.verification_code},
        )
    _tell_applicant(
        application,
        gettext_noop("Your %(letter)s for %(opportunity)s is ready to download."),
        letter=LetterKind(kind).label,
    )
    return letter


def letter_revoke(*, letter: Letter, actor: Any, reason: str = "") -> Letter:
    """Withdraw a letter: the verification page then says it was revoked."""
    application = letter.application
    if not can_decide(actor, application):
        raise PermissionDenied
    reason = _clean_text(reason, limit=REASON_MAX_LENGTH, field="reason")
    with transaction.atomic():
        locked = Letter.objects.select_for_update().get(pk=letter.pk)
        if locked.revoked_at is not None:
            raise ValidationError(_("This letter was already revoked."), code="revoked")
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="application.letter_revoked",
            target=application,
            reason=reason,
            data={"letter": locked.pk, "kind": locked.kind, "code": locked.verification_code},
        )
    _tell_applicant(
        application,
        gettext_noop("Your %(letter)s for %(opportunity)s was revoked by the host."),
        letter=LetterKind(locked.kind).label,
    )
    return locked


LETTER_TEMPLATE_FIELDS = ("body", "signatory_name", "signatory_title")


def letter_template_save(
    *, institution: Any, kind: str, actor: Any, values: Mapping[str, Any]
) -> LetterTemplate:
    """Create or change the host's wording of one kind of letter (its coordinators)."""
    if kind not in LetterKind.values:
        raise ValidationError(_("Unknown kind of letter."), code="unknown_kind")
    if not can_manage_host(actor, institution.pk):
        raise PermissionDenied
    cleaned = {field: str(values.get(field) or "").strip() for field in LETTER_TEMPLATE_FIELDS}
    unknown = unknown_placeholders(cleaned["body"])
    if unknown:
        raise ValidationError(
            {
                "body": _("Unknown placeholders: %(names)s. Use only %(known)s.")
                % {
                    "names": ", ".join(f"{{{name}}}" for name in unknown),
                    "known": ", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
                }
            },
            code="unknown_placeholder",
        )
    with transaction.atomic():
        template = (
            LetterTemplate.objects.select_for_update()
            .filter(institution=institution, kind=kind)
            .first()
        ) or LetterTemplate(institution=institution, kind=kind)
        created = template.pk is None
        changed = [
            field for field in LETTER_TEMPLATE_FIELDS if getattr(template, field) != cleaned[field]
        ]
        for field in LETTER_TEMPLATE_FIELDS:
            setattr(template, field, cleaned[field])
        template.full_clean(exclude=["institution"])
        if not changed and not created:
            return template
        template.save()
        audit_record(
            actor=actor,
            action="letter_template.created" if created else "letter_template.updated",
            target=template,
            data={"kind": kind, "changed": changed},
        )
    return template
