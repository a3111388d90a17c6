"""Every state change of an application: validated, audited, notified.

The state machine is ``choices.TRANSITIONS``; ``_move`` refuses anything else. Seats are
taken in ``application_accept`` only, inside one transaction that first locks the
session row (``select_for_update``), then counts the seats held and writes the
placement: two acceptances of the last seat are serialised by the lock, so a session
never ends with more placements than places. Locks are always taken session first,
then application, so concurrent acceptances and withdrawals cannot deadlock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import ApplicantProfile, User
from medexchange.applications.choices import (
    ACTIVE_STATES,
    AWAITING_DECISION,
    TRANSITIONS,
    ApplicationState,
    ChecklistItemKind,
)
from medexchange.applications.models import (
    HOST_ROLES,
    Application,
    ApplicationDocument,
    ChecklistItem,
    Placement,
    ReviewComment,
    ReviewCriterion,
    ReviewScore,
)
from medexchange.applications.permissions import (
    can_decide,
    can_endorse,
    can_review,
    is_applicant,
)
from medexchange.applications.signals import application_moved
from medexchange.catalog.eligibility import ineligibility_reasons
from medexchange.catalog.models import Session
from medexchange.common.notifications import notify_users
from medexchange.common.services import audit_record

S = ApplicationState
STATEMENT_MAX_LENGTH = 5000
REASON_MAX_LENGTH = 2000
EMAIL_TEMPLATE = "applications/email/status"


class SessionFull(ValidationError):
    """Every place of the session is taken."""


# --------------------------------------------------------------------------- helpers


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _lock(application: Application) -> tuple[Session, Application]:
    """Lock the session, then the application, and reload the application's fields.

    The caller's own object is refreshed in place, so it sees the state it changed.
    """
    session = Session.objects.select_for_update().get(pk=application.session_id)
    list(Application.objects.select_for_update().filter(pk=application.pk).values_list("pk"))
    application.refresh_from_db()
    return session, application


def _move(
    application: Application,
    *,
    to: str,
    actor: Any,
    action: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
    **values: Any,
) -> Application:
    """The one place an application's state changes."""
    source = application.state
    if to not in TRANSITIONS[source]:
        raise ValidationError(
            _("An application that is “%(from)s” cannot become “%(to)s”.")
            % {"from": S(source).label, "to": S(to).label},
            code="invalid_transition",
        )
    application.state = to
    for field, value in values.items():
        setattr(application, field, value)
    if to not in ACTIVE_STATES:
        application.closed_at = timezone.now()
    application.save()
    audit_record(
        actor=actor,
        action=action,
        target=application,
        from_state=source,
        to_state=to,
        reason=reason,
        data=data,
    )
    application_moved.send(
        sender=Application, application=application, source=source, to=to, actor=actor
    )
    return application


def _clean_text(value: str, *, limit: int, field: str, required: bool = False) -> str:
    value = (value or "").strip()
    if "\x00" in value:  # PostgreSQL refuses NUL characters in text
        raise ValidationError(
            {field: ProhibitNullCharactersValidator.message}, code="null_characters_not_allowed"
        )
    if required and not value:
        raise ValidationError({field: _("Please give a reason.")}, code="required")
    if len(value) > limit:
        raise ValidationError(
            {field: _("Keep it under %(limit)d characters.") % {"limit": limit}},
            code="too_long",
        )
    return value


def seats_taken(session: Session) -> int:
    return Placement.objects.filter(session=session, released_at__isnull=True).count()


def open_offers(session: Session) -> int:
    return Application.objects.filter(session=session, state=S.OFFERED).count()


# --------------------------------------------------------------------------- people to tell


def host_reviewers(application: Application) -> QuerySet[User]:
    return User.objects.filter(
        is_active=True,
        institution_roles__institution_id=application.session.opportunity.host_id,
        institution_roles__role__in=HOST_ROLES,
    ).distinct()


def home_coordinators(application: Application) -> QuerySet[User]:
    if application.home_institution_id is None:
        return User.objects.none()
    return User.objects.filter(
        is_active=True,
        institution_roles__institution_id=application.home_institution_id,
        institution_roles__role=InstitutionRoleKind.COORDINATOR,
    ).distinct()


def _tell(users: Iterable[User], application: Application, message: str, **params: Any) -> None:
    recipients = [user for user in users if user is not None]
    if not recipients:
        return
    notify_users(
        users=recipients,
        message=message,
        params={"opportunity": application.session.opportunity.title, **params},
        url=application.get_absolute_url(),
        email_template=EMAIL_TEMPLATE,
        email_context={"application_id": application.pk},
    )


def _tell_applicant(application: Application, message: str, **params: Any) -> None:
    if application.applicant is not None:
        _tell([application.applicant], application, message, **params)


# --------------------------------------------------------------------------- applicant


def profile_of(user: User) -> ApplicantProfile:
    """The applicant's profile, or an empty unsaved one (which fails the checks clearly)."""
    return ApplicantProfile.objects.owned_by(user).first() or ApplicantProfile(user=user)


def application_start(*, applicant: User, session: Session, actor: Any) -> Application:
    """A draft for ``session``, or the applicant's open application to it if there is one."""
    if session.cancelled_at is not None:
        raise ValidationError(_("This session was cancelled."), code="cancelled")
    if timezone.now() >= session.applications_close_at:
        raise ValidationError(_("Applications for this session have closed."), code="closed")
    existing = Application.objects.active().filter(applicant=applicant, session=session).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            application = Application.objects.create(applicant=applicant, session=session)
            audit_record(
                actor=actor, action="application.created", target=application, to_state=S.DRAFT
            )
    except IntegrityError:
        # A second click raced the first: the constraint kept one draft, which is theirs.
        return Application.objects.active().get(applicant=applicant, session=session)
    return application


def application_save_draft(
    *,
    application: Application,
    actor: Any,
    statement: str,
    versions: Sequence[Any] | None = None,
) -> Application:
    """Keep the statement and the chosen document versions; nothing is checked but form."""
    if not is_applicant(actor, application):
        raise PermissionDenied
    if application.state != S.DRAFT:
        raise ValidationError(_("A submitted application can no longer be edited."))
    statement = _clean_text(statement, limit=STATEMENT_MAX_LENGTH, field="statement")
    with transaction.atomic():
        changes: dict[str, Any] = {}
        if statement != application.statement:
            application.statement = statement
            application.save(update_fields=["statement", "updated_at"])
            changes["statement"] = True
        if versions is not None:
            changes.update(_attach(application, versions))
        if changes:
            audit_record(
                actor=actor, action="application.draft_saved", target=application, data=changes
            )
    return application


def _attach(application: Application, versions: Sequence[Any]) -> dict[str, Any]:
    """Attach exactly ``versions`` (each from the applicant's own vault)."""
    if any(version.document.owner_id != application.applicant_id for version in versions):
        raise ValidationError(
            {"documents": _("Attach documents from your own vault only.")}, code="not_owner"
        )
    wanted = {version.pk for version in versions}
    current = set(application.attachments.values_list("version_id", flat=True))
    application.attachments.exclude(version_id__in=wanted).delete()
    ApplicationDocument.objects.bulk_create(
        [ApplicationDocument(application=application, version_id=pk) for pk in wanted - current]
    )
    if wanted == current:
        return {}
    return {"documents": sorted(wanted)}


def submission_problems(application: Application, *, now: dt.datetime | None = None) -> list[str]:
    """Everything that stops ``application`` from being submitted now, in plain words."""
    from medexchange.applications.selectors import requirements_checklist

    now = _now(now)
    session = application.session
    opportunity = session.opportunity
    problems: list[str] = []
    if session.cancelled_at is not None:
        problems.append(_("This session was cancelled."))
    if now < session.applications_open_at:
        problems.append(_("Applications for this session are not open yet."))
    if now >= session.applications_close_at:
        problems.append(_("Applications for this session have closed."))
    if application.applicant is None:
        return problems
    profile = profile_of(application.applicant)
    problems += [str(reason) for reason in ineligibility_reasons(opportunity, profile)]
    missing = profile.is_complete_for_applying()
    if missing:
        problems.append(
            _("Complete your profile first: %(missing)s.")
            % {"missing": ", ".join(str(item) for item in missing)}
        )
    if not application.statement.strip():
        problems.append(_("Write a personal statement."))
    for row in requirements_checklist(application):
        if row.problem:
            problems.append(row.problem)
    return problems


def application_submit(
    *, application: Application, actor: Any, now: dt.datetime | None = None
) -> Application:
    """Send the file: to the home institution first when it must endorse, else to the host."""
    if not is_applicant(actor, application):
        raise PermissionDenied
    now = _now(now)
    with transaction.atomic():
        _session, application = _lock(application)
        if application.state != S.DRAFT:
            raise ValidationError(_("This application was already submitted."))
        problems = submission_problems(application, now=now)
        if problems:
            raise ValidationError(problems, code="not_ready")
        profile = profile_of(application.applicant)  # type: ignore[arg-type]
        opportunity = application.session.opportunity
        home = profile.home_institution
        required = opportunity.endorsement_required
        if required and home is None:
            raise ValidationError(
                _(
                    "This host needs your home institution to endorse you: choose your home "
                    "institution in your profile (it must be a member of the network)."
                ),
                code="no_home_institution",
            )
        _move(
            application,
            to=S.SUBMITTED,
            actor=actor,
            action="application.submitted",
            submitted_at=now,
            endorsement_required=required,
            home_institution=home,
            home_country=profile.home_country,
            reached_host_at=None if required else now,
        )
        # Exchange agreements: count against the quota that covers it, if any has room.
        from medexchange.agreements.services import agreement_attach

        agreement_attach(application=application)
    if required:
        _tell(
            home_coordinators(application),
            application,
            gettext_noop("%(applicant)s asks you to endorse their application to %(opportunity)s."),
            applicant=application.applicant,
        )
    else:
        _tell(
            host_reviewers(application),
            application,
            gettext_noop("New application to %(opportunity)s from %(applicant)s."),
            applicant=application.applicant,
        )
    _tell_applicant(application, gettext_noop("Your application to %(opportunity)s was submitted."))
    return application


def application_withdraw(*, application: Application, actor: Any, reason: str = "") -> Application:
    """The applicant steps back at any open point; a held seat is freed for the waitlist."""
    if not is_applicant(actor, application):
        raise PermissionDenied
    reason = _clean_text(reason, limit=REASON_MAX_LENGTH, field="reason")
    with transaction.atomic():
        session, application = _lock(application)
        held_offer = application.state == S.OFFERED
        released = _release_seat(application)
        _move(
            application, to=S.WITHDRAWN, actor=actor, action="application.withdrawn", reason=reason
        )
        promoted = waitlist_promote(session=session) if released or held_offer else []
    if application.reached_host_at is not None:
        _tell(
            host_reviewers(application),
            application,
            gettext_noop("%(applicant)s withdrew their application to %(opportunity)s."),
            applicant=application.applicant,
        )
    _tell_promoted(promoted)
    return application


def _release_seat(application: Application) -> bool:
    return bool(
        Placement.objects.filter(application=application, released_at__isnull=True).update(
            released_at=timezone.now()
        )
    )


# --------------------------------------------------------------------------- home institution


def application_endorse(*, application: Application, actor: Any, note: str = "") -> Application:
    if not can_endorse(actor, application):
        raise PermissionDenied
    note = _clean_text(note, limit=REASON_MAX_LENGTH, field="note")
    now = timezone.now()
    with transaction.atomic():
        _session, application = _lock(application)
        if application.state != S.SUBMITTED or not application.endorsement_required:
            raise ValidationError(_("This application is not waiting for an endorsement."))
        _move(
            application,
            to=S.ENDORSED,
            actor=actor,
            action="application.endorsed",
            reason=note,
            endorsed_at=now,
            endorsement_note=note,
            reached_host_at=now,
        )
    _tell_applicant(
        application,
        gettext_noop("Your home institution endorsed your application to %(opportunity)s."),
    )
    _tell(
        host_reviewers(application),
        application,
        gettext_noop("New endorsed application to %(opportunity)s from %(applicant)s."),
        applicant=application.applicant,
    )
    return application


def application_endorsement_decline(
    *, application: Application, actor: Any, reason: str
) -> Application:
    if not can_endorse(actor, application):
        raise PermissionDenied
    reason = _clean_text(reason, limit=REASON_MAX_LENGTH, field="reason", required=True)
    with transaction.atomic():
        _session, application = _lock(application)
        if application.state != S.SUBMITTED or not application.endorsement_required:
            raise ValidationError(_("This application is not waiting for an endorsement."))
        _move(
            application,
            to=S.NOT_ENDORSED,
            actor=actor,
            action="application.endorsement_declined",
            reason=reason,
            endorsement_note=reason,
        )
    _tell_applicant(
        application,
        gettext_noop(
            "Your home institution did not endorse your application to %(opportunity)s: %(reason)s"
        ),
        reason=reason,
    )
    return application


# --------------------------------------------------------------------------- host review


def _require_reviewer(actor: Any, application: Application) -> None:
    if not can_review(actor, application):
        raise PermissionDenied


def application_start_review(*, application: Application, actor: Any) -> Application:
    """Mark the file as being read, so the applicant sees someone has it in hand."""
    _require_reviewer(actor, application)
    with transaction.atomic():
        _session, application = _lock(application)
        if application.state in {S.SUBMITTED, S.ENDORSED} and application.reached_host_at:
            _move(application, to=S.UNDER_REVIEW, actor=actor, action="application.review_started")
    return application


def application_score(
    *, application: Application, actor: Any, scores: dict[int, int | None]
) -> list[ReviewScore]:
    """Record ``actor``'s scores (criterion id → score, None clears) for ``application``."""
    _require_reviewer(actor, application)
    if application.state not in AWAITING_DECISION | {S.OFFERED}:
        raise ValidationError(_("Only applications awaiting a decision are scored."))
    criteria = {
        criterion.pk: criterion
        for criterion in ReviewCriterion.objects.filter(
            opportunity_id=application.session.opportunity_id
        )
    }
    errors: dict[str, list[str]] = {}
    for criterion_id, score in scores.items():
        criterion = criteria.get(criterion_id)
        if criterion is None:
            errors.setdefault("__all__", []).append(_("Unknown criterion."))
        elif score is not None and not 0 <= score <= criterion.max_score:
            errors.setdefault(f"criterion_{criterion_id}", []).append(
                _("Give a score from 0 to %(max)d.") % {"max": criterion.max_score}
            )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        application_start_review(application=application, actor=actor)
        saved = []
        for criterion_id, score in scores.items():
            if score is None:
                ReviewScore.objects.filter(
                    application=application, reviewer=actor, criterion_id=criterion_id
                ).delete()
                continue
            row, _created = ReviewScore.objects.update_or_create(
                application=application,
                reviewer=actor,
                criterion_id=criterion_id,
                defaults={"score": score},
            )
            saved.append(row)
        audit_record(
            actor=actor,
            action="application.scored",
            target=application,
            data={str(key): value for key, value in scores.items()},
        )
    return saved


def application_comment(*, application: Application, actor: Any, body: str) -> ReviewComment:
    _require_reviewer(actor, application)
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write a comment first.")}, code="required")
    if len(body) > STATEMENT_MAX_LENGTH:
        raise ValidationError(
            {"body": _("Keep it under %(limit)d characters.") % {"limit": STATEMENT_MAX_LENGTH}}
        )
    with transaction.atomic():
        comment = ReviewComment.objects.create(application=application, author=actor, body=body)
        audit_record(
            actor=actor,
            action="application.commented",
            target=application,
            data={"comment": comment.pk},
        )
    return comment


def default_response_deadline(session: Session, now: dt.datetime) -> dt.datetime:
    """A week to answer (``OFFER_RESPONSE_DAYS``), but never past the session's start."""
    days = int(getattr(settings, "OFFER_RESPONSE_DAYS", 7))
    deadline = now + dt.timedelta(days=days)
    from medexchange.catalog.services import session_starts_at

    starts = session_starts_at(session.opportunity, session.start_date)
    return min(deadline, starts)


def application_offer(
    *,
    application: Application,
    actor: Any,
    respond_by: dt.datetime | None = None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Application:
    """Offer a place. Offers may outnumber places: only acceptance takes a seat."""
    from medexchange.catalog.services import session_starts_at

    if actor is not None and not can_decide(actor, application):
        raise PermissionDenied
    now = _now(now)
    reason = _clean_text(reason, limit=REASON_MAX_LENGTH, field="reason")
    with transaction.atomic():
        session, application = _lock(application)
        _refuse_if_in_match_cycle(session)  # match cycles (docs/match-cycles.md)
        deadline = respond_by or default_response_deadline(session, now)
        if deadline <= now:
            raise ValidationError(
                {"respond_by": _("The answer deadline must be in the future.")}, code="past"
            )
        # As the default deadline: an answer is due before the stay begins (and a date
        # centuries away could not even be stored or shown).
        if deadline > session_starts_at(session.opportunity, session.start_date):
            raise ValidationError(
                {"respond_by": _("The answer deadline cannot be after the session starts.")},
                code="after_start",
            )
        _move(
            application,
            to=S.OFFERED,
            actor=actor,
            action="application.offered",
            reason=reason,
            data={"respond_by": deadline.isoformat()},
            offered_at=now,
            offer_expires_at=deadline,
            decided_at=application.decided_at or now,
            decision_reason=reason,
        )
    _tell_applicant(
        application,
        gettext_noop("You are offered a place in %(opportunity)s. Please answer by %(deadline)s."),
        deadline=timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M %Z"),
    )
    return application


def application_waitlist(*, application: Application, actor: Any, reason: str = "") -> Application:
    if not can_decide(actor, application):
        raise PermissionDenied
    reason = _clean_text(reason, limit=REASON_MAX_LENGTH, field="reason")
    now = timezone.now()
    with transaction.atomic():
        _session, application = _lock(application)
        _move(
            application,
            to=S.WAITLISTED,
            actor=actor,
            action="application.waitlisted",
            reason=reason,
            waitlisted_at=now,
            decided_at=application.decided_at or now,
            decision_reason=reason,
        )
    _tell_applicant(
        application,
        gettext_noop(
            "You are on the waiting list of %(opportunity)s. You will be offered a place "
            "automatically if one frees up."
        ),
    )
    return application


def application_decline(*, application: Application, actor: Any, reason: str) -> Application:
    if not can_decide(actor, application):
        raise PermissionDenied
    reason = _clean_text(reason, limit=REASON_MAX_LENGTH, field="reason", required=True)
    now = timezone.now()
    with transaction.atomic():
        _session, application = _lock(application)
        _move(
            application,
            to=S.DECLINED,
            actor=actor,
            action="application.declined",
            reason=reason,
            decided_at=application.decided_at or now,
            decision_reason=reason,
        )
    _tell_applicant(
        application,
        gettext_noop("Your application to %(opportunity)s was not successful: %(reason)s"),
        reason=reason,
    )
    return application


# --------------------------------------------------------------------------- offers and seats


def application_accept(
    *, application: Application, actor: Any, now: dt.datetime | None = None
) -> Application:
    """Take a seat if one is free. Capacity is law: the session row is locked first."""
    if not is_applicant(actor, application):
        raise PermissionDenied
    now = _now(now)
    with transaction.atomic():
        session, application = _lock(application)
        if application.state != S.OFFERED:
            raise ValidationError(_("There is no open offer to accept."), code="no_offer")
        if application.offer_expires_at is not None and application.offer_expires_at <= now:
            raise ValidationError(_("This offer has expired."), code="expired")
        if seats_taken(session) >= session.capacity:
            raise SessionFull(
                _("Sorry, the session is full: every place was accepted before you."),
                code="full",
            )
        # Exchange agreements: drop the agreement if others used its quota up meanwhile.
        from medexchange.agreements.services import agreement_recheck

        agreement_recheck(application=application)
        Placement.objects.create(application=application, session=session)
        _move(
            application,
            to=S.ACCEPTED,
            actor=actor,
            action="application.accepted",
            responded_at=now,
        )
        ChecklistItem.objects.bulk_create(
            [ChecklistItem(application=application, kind=kind) for kind in ChecklistItemKind]
        )
    _tell(
        host_reviewers(application),
        application,
        gettext_noop("%(applicant)s accepted your offer for %(opportunity)s."),
        applicant=application.applicant,
    )
    _tell(
        home_coordinators(application),
        application,
        gettext_noop("%(applicant)s accepted a place in %(opportunity)s."),
        applicant=application.applicant,
    )
    return application


def application_decline_offer(
    *, application: Application, actor: Any, reason: str = ""
) -> Application:
    if not is_applicant(actor, application):
        raise PermissionDenied
    reason = _clean_text(reason, limit=REASON_MAX_LENGTH, field="reason")
    with transaction.atomic():
        session, application = _lock(application)
        if application.state != S.OFFERED:
            raise ValidationError(_("There is no open offer to decline."), code="no_offer")
        _move(
            application,
            to=S.OFFER_DECLINED,
            actor=actor,
            action="application.offer_declined",
            reason=reason,
            responded_at=timezone.now(),
        )
        promoted = waitlist_promote(session=session)
    _tell(
        host_reviewers(application),
        application,
        gettext_noop("%(applicant)s declined your offer for %(opportunity)s."),
        applicant=application.applicant,
    )
    _tell_promoted(promoted)
    return application


def waitlist_promote(*, session: Session, now: dt.datetime | None = None) -> list[Application]:
    """Offer places to the waitlist, first come first served, while places are uncovered.

    Call inside a transaction holding the session's lock. A place is uncovered when
    neither a placement nor an open offer covers it.
    """
    now = _now(now)
    free = session.capacity - seats_taken(session) - open_offers(session)
    promoted: list[Application] = []
    if free <= 0 or _in_match_cycle(session):
        return promoted  # a cycle allocates the session's places: nobody jumps the match
    waiting = (
        Application.objects.select_for_update()
        .filter(session=session, state=S.WAITLISTED)
        .order_by("waitlisted_at", "pk")[:free]
    )
    for application in waiting:
        deadline = default_response_deadline(session, now)
        if deadline <= now:
            break
        _move(
            application,
            to=S.OFFERED,
            actor=None,
            action="application.offered",
            reason="waitlist",
            data={"respond_by": deadline.isoformat(), "from_waitlist": True},
            offered_at=now,
            offer_expires_at=deadline,
        )
        promoted.append(application)
    return promoted


def _tell_promoted(promoted: Iterable[Application]) -> None:
    for application in promoted:
        application.refresh_from_db()
        _tell_applicant(
            application,
            gettext_noop(
                "A place freed up: you are offered a place in %(opportunity)s. Please answer "
                "by %(deadline)s."
            ),
            deadline=timezone.localtime(application.offer_expires_at).strftime("%Y-%m-%d %H:%M %Z"),
        )


def offers_expire(*, now: dt.datetime | None = None) -> list[Application]:
    """Close unanswered offers past their deadline and offer their places to the waitlist."""
    now = _now(now)
    expired: list[Application] = []
    due = Application.objects.filter(state=S.OFFERED, offer_expires_at__lte=now)
    for pk, session_id in due.values_list("pk", "session_id").order_by("session_id", "pk"):
        with transaction.atomic():
            session = Session.objects.select_for_update().get(pk=session_id)
            application = Application.objects.select_for_update().get(pk=pk)
            if application.state != S.OFFERED or application.offer_expires_at is None:
                continue
            if application.offer_expires_at > now:
                continue
            _move(
                application,
                to=S.OFFER_EXPIRED,
                actor=None,
                action="application.offer_expired",
                reason="deadline",
            )
            promoted = waitlist_promote(session=session, now=now)
        expired.append(application)
        _tell_applicant(
            application,
            gettext_noop("Your offer for %(opportunity)s expired without an answer."),
        )
        _tell_promoted(promoted)
    return expired


# --------------------------------------------------------------------------- after acceptance


def application_confirm(*, application: Application, actor: Any) -> Application:
    """The host confirms the placement (usually once the checklist is done)."""
    if not can_decide(actor, application):
        raise PermissionDenied
    with transaction.atomic():
        _session, application = _lock(application)
        _move(application, to=S.CONFIRMED, actor=actor, action="application.confirmed")
    _tell_applicant(application, gettext_noop("Your place in %(opportunity)s is confirmed."))
    return application


def application_begin(*, application: Application, actor: Any) -> Application:
    """The participant has arrived."""
    if actor is not None and not can_decide(actor, application):
        raise PermissionDenied
    with transaction.atomic():
        _session, application = _lock(application)
        _move(application, to=S.IN_PROGRESS, actor=actor, action="application.started")
    return application


def application_complete(*, application: Application, actor: Any) -> Application:
    if actor is not None and not can_decide(actor, application):
        raise PermissionDenied
    with transaction.atomic():
        _session, application = _lock(application)
        _move(application, to=S.COMPLETED, actor=actor, action="application.completed")
    _tell_applicant(
        application,
        gettext_noop("Your stay in %(opportunity)s is complete. Please tell us how it went."),
    )
    return application


def placements_advance(*, today: dt.date | None = None) -> dict[str, int]:
    """Confirmed stays start on their first day and complete after their last (daily task)."""
    today = today or timezone.localdate()
    started = completed = 0
    for application in Application.objects.filter(
        state=S.CONFIRMED, session__start_date__lte=today
    ):
        application_begin(application=application, actor=None)
        started += 1
    for application in Application.objects.filter(state=S.IN_PROGRESS, session__end_date__lt=today):
        application_complete(application=application, actor=None)
        completed += 1
    return {"started": started, "completed": completed}


def checklist_tick(
    *, item: ChecklistItem, actor: Any, done: bool, note: str | None = None
) -> ChecklistItem:
    """The participant ticks their side, the host theirs; each side only its own."""
    application = item.application
    if application.state not in {S.ACCEPTED, S.CONFIRMED, S.IN_PROGRESS}:
        raise ValidationError(_("The checklist is closed for this application."))
    if is_applicant(actor, application):
        side = "applicant_done_at"
    elif can_decide(actor, application):
        side = "host_done_at"
    else:
        raise PermissionDenied
    with transaction.atomic():
        setattr(item, side, timezone.now() if done else None)
        if note is not None:
            item.note = _clean_text(note, limit=REASON_MAX_LENGTH, field="note")
        item.save()
        audit_record(
            actor=actor,
            action="application.checklist_ticked" if done else "application.checklist_unticked",
            target=application,
            data={"step": item.kind, "side": side.removesuffix("_done_at")},
        )
    return item


# --------------------------------------------------------------------------- review criteria


def review_criterion_save(
    *,
    opportunity: Any,
    actor: Any,
    criterion: ReviewCriterion | None = None,
    values: dict[str, Any],
) -> ReviewCriterion:
    from medexchange.applications.permissions import can_manage_host

    if not can_manage_host(actor, opportunity.host_id):
        raise PermissionDenied
    criterion = criterion or ReviewCriterion(opportunity=opportunity)
    for field, value in values.items():
        setattr(criterion, field, value)
    criterion.full_clean()
    with transaction.atomic():
        created = criterion.pk is None
        criterion.save()
        audit_record(
            actor=actor,
            action="review_criterion.created" if created else "review_criterion.updated",
            target=criterion,
            data={key: str(value) for key, value in values.items()},
        )
    return criterion


# --------------------------------------------------------------------------- review work
# Added with the review queue and review page (docs/reviewing.md): deleting a criterion,
# and the single "Overall" criterion a reviewer scores against when the host set none.


def review_criterion_delete(*, criterion: ReviewCriterion, actor: Any) -> int:
    """Delete a criterion and the scores given against it; returns how many scores went.

    The view asks for an explicit confirmation when there are scores; the reviewers whose
    scores are deleted are told.
    """
    from medexchange.applications.permissions import can_manage_host

    opportunity = criterion.opportunity
    if not can_manage_host(actor, opportunity.host_id):
        raise PermissionDenied
    with transaction.atomic():
        scores = ReviewScore.objects.filter(criterion=criterion)
        reviewer_ids = set(scores.exclude(reviewer=actor).values_list("reviewer_id", flat=True))
        deleted = scores.count()
        audit_record(
            actor=actor,
            action="review_criterion.deleted",
            target=criterion,
            data={"name": criterion.name, "opportunity": opportunity.pk, "scores": deleted},
        )
        name = criterion.name
        criterion.delete()
    reviewers = User.objects.filter(pk__in=reviewer_ids - {None}, is_active=True)
    if reviewers:
        notify_users(
            users=reviewers,
            message=gettext_noop(
                "The review criterion “%(criterion)s” of %(opportunity)s was deleted, with "
                "the scores you gave against it."
            ),
            params={"criterion": name, "opportunity": opportunity.title},
        )
    return deleted


def review_criterion_default(*, opportunity: Any, actor: Any) -> ReviewCriterion:
    """The opportunity's first criterion, creating a single "Overall" one if it has none.

    Any reviewer of the host may call it (the first score needs something to score
    against); the opportunity row is locked so two first scores create one criterion.
    """
    from medexchange.catalog.models import Opportunity

    allowed = actor.is_authenticated and (
        actor.is_superuser
        or actor.institution_roles.filter(
            institution_id=opportunity.host_id, role__in=HOST_ROLES
        ).exists()
    )
    if not allowed:
        raise PermissionDenied
    with transaction.atomic():
        Opportunity.objects.select_for_update().filter(pk=opportunity.pk).first()
        existing = ReviewCriterion.objects.filter(opportunity=opportunity).first()
        if existing is not None:
            return existing
        criterion = ReviewCriterion.objects.create(
            opportunity=opportunity,
            name=_("Overall"),
            description=_("Your overall judgement of the application."),
        )
        audit_record(
            actor=actor,
            action="review_criterion.created",
            target=criterion,
            data={"name": criterion.name, "default": True},
        )
    return criterion


# --------------------------------------------------------------------------- match cycles
# Added with the matching app (docs/match-cycles.md): no direct offers while a session's
# places are allocated by an open match cycle, and the seat a binding match gives.


def _in_match_cycle(session: Session) -> bool:
    from medexchange.matching.services import cycle_blocking_offers

    return cycle_blocking_offers(session) is not None


def _refuse_if_in_match_cycle(session: Session) -> None:
    from medexchange.matching.services import cycle_blocking_offers

    cycle = cycle_blocking_offers(session)
    if cycle is not None:
        raise ValidationError(
            _(
                "The places of this session are allocated by the match cycle “%(cycle)s”: "
                "offer directly once its results are released."
            )
            % {"cycle": cycle.name},
            code="in_match_cycle",
        )


def application_place_by_match(
    *, application: Application, actor: Any, reason: str = ""
) -> Application:
    """Take the seat a binding match cycle gave ``application``: offered and accepted at once.

    The applicant committed to the place by ranking it in a binding cycle. The caller
    (``matching.services.match_run_release``) checks who may release and has locked the
    cycle's session rows in primary-key order; the session is locked again here (a no-op
    in the same transaction), the seats re-counted, and the placement written.
    """
    now = timezone.now()
    with transaction.atomic():
        session, application = _lock(application)
        if application.state not in AWAITING_DECISION:
            raise ValidationError(
                _("Only an application awaiting a decision can be placed by the match."),
                code="not_awaiting",
            )
        if seats_taken(session) >= session.capacity:
            raise SessionFull(_("The session has no place left for this match."), code="full")
        _move(
            application,
            to=S.OFFERED,
            actor=actor,
            action="application.matched",
            reason=reason,
            offered_at=now,
            decided_at=application.decided_at or now,
            decision_reason=reason,
        )
        placement = Placement.objects.create(application=application, session=session)
        _move(
            application,
            to=S.ACCEPTED,
            actor=actor,
            action="application.placed_by_match",
            reason=reason,
            responded_at=placement.created_at,
        )
        ChecklistItem.objects.bulk_create(
            [ChecklistItem(application=application, kind=kind) for kind in ChecklistItemKind]
        )
    return application
