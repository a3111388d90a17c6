"""Every change of a scholarship call, request, allocation and award: validated, audited,
notified. Money moves only through ``medexchange.funding.services``.

**Call status** (``choices.CALL_TRANSITIONS``): draft → open → reviewing → allocated →
closed (any open call may be closed). Opening needs at least one fund.

**Requests** are made by the applicant from one of their applications
(``eligibility.ineligibility_reasons`` is shown before and enforced here), scored 0-10 by
the call's reviewers, and decided by the allocation.

**Allocation.** ``allocation_propose`` builds the engine's instance from the pending
requests and the funds' available money now, solves it exactly
(``medexchange.engines.funding.allocate``) and replaces the call's proposed awards. The
priority of a request is the **mean of its review scores** (0-10), passed to the engine
to 0.01 ("7.25"): the engine maximises the sum of the priorities of the requests it
funds, within what each fund has available and the funds each request may draw on (a
fund restricted to some EM statuses serves only applicants from those countries).
Unreviewed requests take no part unless pinned to an award. The committee pins requests
(award / no award) and changes amounts within the call's range
(``scholarship_request_adjust``), then proposes again.

**Commit.** ``awards_commit`` (finance staff only) needs the latest proposal to still
describe the pending requests (``Instance.differs_from``), then commits each proposed
award in a transaction of its own, highest mean score first: each fund share is reserved
with ``funding.services.commitment_reserve``, which locks the fund row and re-derives what
is available. An award whose share no longer fits is refused with the fund's reason and
stays proposed; the others are committed. When every proposed award was committed, the
requests left pending are told they were not awarded; otherwise they stay pending so a
new proposal can use what is left.

**Release.** When an application closes unsuccessfully (withdrawn, declined, not
endorsed, offer declined or expired) ``applications.signals.application_moved`` calls
``requests_close_for_application`` inside the move's transaction: its requests are
withdrawn, a proposed award is cancelled and a committed one released (each commitment's
outstanding money goes back to the fund; planned payments are cancelled when the actor is
finance staff, see ``_release``).

**Lock order**, everywhere: the request row, then the award row, then fund rows in
primary-key order (``funding.services.lock_funds``); a proposal locks the call, then the
pending requests, before replacing their awards. A withdrawal holds the session and the
application first, then takes the same order, so commits, releases, payments and
withdrawals cannot deadlock (``tests/scholarships/test_concurrency.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from medexchange.accounts.models import User
from medexchange.applications.choices import ApplicationState
from medexchange.applications.models import Application
from medexchange.catalog.choices import OpportunityKind, TrainingLevel
from medexchange.common.notifications import notify_users
from medexchange.common.services import audit_record
from medexchange.engines.funding.parse import MAX_FUNDS as ENGINE_MAX_FUNDS
from medexchange.funding.money import format_money, parse_amount, validate_currency
from medexchange.network.choices import EmStatus, IncomeGroup, MembershipStatus
from medexchange.scholarships import eligibility
from medexchange.scholarships.choices import (
    ALLOCATING_STATUSES,
    CALL_TRANSITIONS,
    PENDING_REQUESTS,
    AwardStatus,
    CallStatus,
    Cover,
    Pin,
    RequestStatus,
    RunStatus,
)
from medexchange.scholarships.models import (
    MAX_SCORE,
    NEED_STATEMENT_MAX_LENGTH,
    AllocationRun,
    Award,
    RequestReview,
    ScholarshipCall,
    ScholarshipRequest,
)
from medexchange.scholarships.permissions import (
    can_manage,
    can_manage_network,
    can_move_money,
    can_review,
    is_applicant,
)

C = CallStatus
R = RequestStatus
A = AwardStatus
EMAIL_TEMPLATE = "scholarships/email/status"
TEXT_MAX_LENGTH = 2000
#: The allocation engine's limit (its feasibility rows range over sets of funds).
MAX_FUNDS = ENGINE_MAX_FUNDS
#: Application states in which a request's award is released (the stay will not happen).
CLOSING_STATES = frozenset(
    {
        ApplicationState.WITHDRAWN,
        ApplicationState.DECLINED,
        ApplicationState.NOT_ENDORSED,
        ApplicationState.OFFER_DECLINED,
        ApplicationState.OFFER_EXPIRED,
    }
)
CALL_FIELDS = (
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
CALL_ACTIONS: dict[str, str] = {
    C.OPEN: "scholarship_call.opened",
    C.REVIEWING: "scholarship_call.review_started",
    C.CLOSED: "scholarship_call.closed",
}
#: What may still change once a call is open (the rules applicants applied under may not).
OPEN_CALL_FIELDS = frozenset({"title", "description", "closes_at"})


def allocation_seconds() -> float:
    """Time limit of one allocation solve (setting ``SCHOLARSHIP_ALLOCATION_SECONDS``)."""
    return float(getattr(settings, "SCHOLARSHIP_ALLOCATION_SECONDS", 10.0))


# --------------------------------------------------------------------------- helpers


class _Money:
    """An amount that formats itself in the language active when it is written out."""

    def __init__(self, amount: Decimal, currency: str) -> None:
        self.amount, self.currency = amount, currency

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)


def _lock(instance: Any) -> Any:
    """Lock the row and reload the caller's own object in place, so it sees the change."""
    model = type(instance)
    list(model.objects.select_for_update().filter(pk=instance.pk).values_list("pk"))
    instance.refresh_from_db()
    return instance


def _clean_text(value: Any, *, field: str, limit: int, required: str | None = None) -> str:
    value = str(value or "").strip()
    if "\x00" in value:
        raise ValidationError({field: ProhibitNullCharactersValidator.message}, code="null")
    if required is not None and not value:
        raise ValidationError({field: required}, code="required")
    if len(value) > limit:
        raise ValidationError(
            {field: _("Keep it under %(limit)d characters.") % {"limit": limit}},
            code="too_long",
        )
    return value


def _amount(value: Any, currency: str, *, field: str) -> Decimal:
    """An amount of ``currency``: refused (never rounded) when it is not positive or has
    more decimals than the currency."""
    if value is None or value == "":
        raise ValidationError({field: _("Enter an amount.")}, code="required")
    try:
        return parse_amount(value if isinstance(value, Decimal) else str(value), currency)
    except ValidationError as error:
        raise ValidationError({field: error.messages}, code=error.code) from None


def _in_range(amount: Decimal, call: ScholarshipCall, *, field: str) -> None:
    if not call.amount_min <= amount <= call.amount_max:
        raise ValidationError(
            {
                field: _("Ask for an amount between %(min)s and %(max)s.")
                % {
                    "min": format_money(call.amount_min, call.currency),
                    "max": format_money(call.amount_max, call.currency),
                }
            },
            code="out_of_range",
        )


def _tell(users: Iterable[User | None], message: str, *, url: str, **params: Any) -> None:
    recipients = [user for user in users if user is not None and user.is_active]
    if recipients:
        notify_users(
            users=recipients,
            message=message,
            params=params,
            url=url,
            email_template=EMAIL_TEMPLATE,
            email_context={},
        )


def _applicant(request: ScholarshipRequest) -> User | None:
    return request.application.applicant


def network_staff(call: ScholarshipCall) -> list[User]:
    return list(
        User.objects.filter(is_active=True, network_staff_roles__network_id=call.network_id)
        .distinct()
        .order_by("pk")
    )


def _move_request(
    request: ScholarshipRequest, *, to: str, actor: Any, action: str, reason: str = ""
) -> None:
    source = request.status
    if source == to:
        return
    request.status = to
    if to in {R.AWARDED, R.NOT_AWARDED}:
        request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_at", "updated_at"])
    audit_record(
        actor=actor, action=action, target=request, from_state=source, to_state=to, reason=reason
    )


def _move_award(
    award: Award, *, to: str, actor: Any, action: str, reason: str = "", **values: Any
) -> None:
    source = award.status
    award.status = to
    for name, value in values.items():
        setattr(award, name, value)
    if reason:
        award.status_reason = reason[:TEXT_MAX_LENGTH]
    award.save()
    audit_record(
        actor=actor,
        action=action,
        target=award,
        from_state=source,
        to_state=to,
        reason=reason,
        data={"amount": str(award.amount), "currency": award.currency},
    )


# --------------------------------------------------------------------------- calls


def _choices_list(values: Any, choices: Any, *, field: str, blank_ok: bool = False) -> list[str]:
    allowed = {value for value in choices.values if value or blank_ok}
    values = list(values or [])
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise ValidationError(
            {field: _("Unknown choice: %(values)s.") % {"values": ", ".join(map(str, unknown))}},
            code="unknown_choice",
        )
    return sorted(set(values), key=values.index)


def _clean_call(
    network: Any, values: dict[str, Any], funds: Sequence[Any], reviewers: Sequence[User]
) -> dict[str, Any]:
    """The rules a call keeps, whoever saves it (form, API, admin); field by field."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}

    def attempt(name: str, check: Any) -> None:
        try:
            cleaned[name] = check()
        except ValidationError as error:
            messages = error.message_dict.get(name) if hasattr(error, "error_dict") else None
            errors.setdefault(name, []).extend(messages or error.messages)

    attempt(
        "title",
        lambda: _clean_text(
            values.get("title"), field="title", limit=200, required=_("Give the call a title.")
        ),
    )
    attempt(
        "description",
        lambda: _clean_text(values.get("description"), field="description", limit=5000),
    )
    currency = str(values.get("currency") or "").strip()

    def check_currency() -> str:
        validate_currency(currency)
        return currency

    attempt("currency", check_currency)
    if "currency" in cleaned:
        for name in ("amount_min", "amount_max"):
            attempt(name, lambda name=name: _amount(values.get(name), currency, field=name))
    low, high = cleaned.get("amount_min"), cleaned.get("amount_max")
    if low is not None and high is not None and high < low:
        errors.setdefault("amount_max", []).append(
            _("The largest amount cannot be below the smallest.")
        )
    attempt(
        "covers",
        lambda: _choices_list(values.get("covers"), Cover, field="covers"),
    )
    if "covers" in cleaned and not cleaned["covers"]:
        errors.setdefault("covers", []).append(_("Choose what the scholarships pay for."))
    cleaned["partial_awards"] = bool(values.get("partial_awards", False))
    for name, choices in (
        ("eligible_em_statuses", EmStatus),
        ("eligible_income_groups", IncomeGroup),
        ("eligible_training_levels", TrainingLevel),
        ("eligible_opportunity_kinds", OpportunityKind),
    ):
        attempt(
            name,
            lambda name=name, choices=choices: _choices_list(values.get(name), choices, field=name),
        )
    opens, closes = values.get("opens_at"), values.get("closes_at")
    if not isinstance(opens, dt.datetime):
        errors.setdefault("opens_at", []).append(_("Give the date and time the call opens."))
    else:
        cleaned["opens_at"] = opens
    if not isinstance(closes, dt.datetime):
        errors.setdefault("closes_at", []).append(_("Give the date and time the call closes."))
    else:
        cleaned["closes_at"] = closes
    if isinstance(opens, dt.datetime) and isinstance(closes, dt.datetime) and closes <= opens:
        errors.setdefault("closes_at", []).append(_("The call must close after it opens."))
    if len(funds) > MAX_FUNDS:
        errors.setdefault("funds", []).append(
            _("A call draws on at most %(count)d funds.") % {"count": MAX_FUNDS}
        )
    for fund in funds:
        if fund.network_id != network.pk:
            errors.setdefault("funds", []).append(
                _("%(fund)s is a fund of another network.") % {"fund": fund.name}
            )
        elif "currency" in cleaned and fund.currency != currency:
            errors.setdefault("funds", []).append(
                _(
                    "%(fund)s holds %(fund_currency)s: a call's funds hold its currency "
                    "(%(currency)s)."
                )
                % {"fund": fund.name, "fund_currency": fund.currency, "currency": currency}
            )
        elif not fund.is_active:
            errors.setdefault("funds", []).append(
                _("%(fund)s is no longer active.") % {"fund": fund.name}
            )
    for reviewer in reviewers:
        if not _belongs_to_network(reviewer, network.pk):
            errors.setdefault("reviewers", []).append(
                _("%(person)s has no role in the network.") % {"person": reviewer.email}
            )
    if errors:
        raise ValidationError(errors)
    return cleaned


def _belongs_to_network(user: User, network_id: int) -> bool:
    from medexchange.network.models import Membership

    members = Membership.objects.filter(
        network_id=network_id, status=MembershipStatus.ACTIVE
    ).values("institution_id")
    return bool(
        user.is_active
        and (
            user.network_staff_roles.filter(network_id=network_id).exists()
            or user.institution_roles.filter(institution_id__in=members).exists()
        )
    )


def call_create(
    *,
    network: Any,
    actor: Any,
    values: dict[str, Any],
    funds: Sequence[Any] = (),
    reviewers: Sequence[User] = (),
) -> ScholarshipCall:
    """A draft call of ``network``; only its staff make one."""
    if not can_manage_network(actor, network.pk):
        raise PermissionDenied
    cleaned = _clean_call(network, values, funds, reviewers)
    with transaction.atomic():
        call = ScholarshipCall.objects.create(network=network, created_by=actor, **cleaned)
        call.funds.set(funds)
        call.reviewers.set(reviewers)
        audit_record(
            actor=actor,
            action="scholarship_call.created",
            target=call,
            to_state=C.DRAFT,
            data=_call_data(call),
        )
    return call


def _call_data(call: ScholarshipCall) -> dict[str, Any]:
    return {
        "amount_min": str(call.amount_min),
        "amount_max": str(call.amount_max),
        "currency": call.currency,
        "partial_awards": call.partial_awards,
        "funds": sorted(call.funds.values_list("pk", flat=True)),
        "reviewers": sorted(call.reviewers.values_list("pk", flat=True)),
    }


def call_update(
    *,
    call: ScholarshipCall,
    actor: Any,
    values: dict[str, Any],
    funds: Sequence[Any],
    reviewers: Sequence[User],
) -> ScholarshipCall:
    """Change a draft; of an open call only its wording, closing time and people."""
    if not can_manage(actor, call):
        raise PermissionDenied
    if call.status not in {C.DRAFT, C.OPEN}:
        raise ValidationError(_("Only a draft or an open call can be changed."), code="status")
    cleaned = _clean_call(call.network, values, funds, reviewers)
    with transaction.atomic():
        _lock(call)
        if call.status == C.OPEN:
            locked = {
                name
                for name in CALL_FIELDS
                if name not in OPEN_CALL_FIELDS and cleaned[name] != getattr(call, name)
            }
            if set(funds) != set(call.funds.all()):
                locked.add("funds")
            if locked:
                raise ValidationError(
                    {
                        name: _(
                            "An open call's rules cannot change: applicants applied under them."
                        )
                        for name in sorted(locked)
                    },
                    code="open",
                )
        for name, value in cleaned.items():
            setattr(call, name, value)
        call.save()
        call.funds.set(funds)
        call.reviewers.set(reviewers)
        audit_record(
            actor=actor, action="scholarship_call.updated", target=call, data=_call_data(call)
        )
    return call


def call_move(*, call: ScholarshipCall, to: str, actor: Any, reason: str = "") -> ScholarshipCall:
    """Open, start reviewing, or close a call (the network's staff)."""
    if not can_manage(actor, call):
        raise PermissionDenied
    reason = _clean_text(reason, field="reason", limit=TEXT_MAX_LENGTH)
    with transaction.atomic():
        _lock(call)
        source = call.status
        if to not in CALL_TRANSITIONS[source] or to == C.ALLOCATED:
            raise ValidationError(
                _("A call that is “%(from)s” cannot become “%(to)s”.")
                % {"from": C(source).label, "to": C(to).label},
                code="invalid_transition",
            )
        if to == C.OPEN:
            if not call.funds.exists():
                raise ValidationError(
                    _("Choose at least one fund before opening the call."), code="no_fund"
                )
            if call.closes_at <= timezone.now():
                raise ValidationError(
                    _("The closing time has passed: move it later before opening."),
                    code="closed",
                )
        call.status = to
        call.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action=CALL_ACTIONS[to],
            target=call,
            from_state=source,
            to_state=to,
            reason=reason,
        )
        if to == C.REVIEWING:
            for request in call.requests.select_for_update().filter(status=R.SUBMITTED):
                _move_request(
                    request,
                    to=R.UNDER_REVIEW,
                    actor=actor,
                    action="scholarship_request.review_started",
                )
    return call


# --------------------------------------------------------------------------- requests


def eligibility_reasons(
    call: ScholarshipCall, application: Application, *, now: dt.datetime | None = None
) -> list[eligibility.Reason]:
    return eligibility.reasons_for(call, application, now=now or timezone.now())


def _clean_covers(values: Any, call: ScholarshipCall) -> list[str]:
    covers = list(values or [])
    if not covers:
        raise ValidationError({"covers": _("Choose what you need the money for.")}, code="required")
    unknown = [value for value in covers if value not in (call.covers or [])]
    if unknown:
        raise ValidationError(
            {
                "covers": _("This call does not pay for: %(values)s.")
                % {"values": ", ".join(unknown)}
            },
            code="not_covered",
        )
    return sorted(set(covers), key=covers.index)


def _least_amount(value: Any, asked: Decimal | None, call: ScholarshipCall) -> Decimal:
    """The least that still helps: within the call's range and not above the amount asked."""
    least = _amount(value, call.currency, field="least_amount")
    _in_range(least, call, field="least_amount")
    if asked is not None and least > asked:
        raise ValidationError(
            {"least_amount": _("The least that still helps cannot be more than you ask for.")},
            code="above_amount",
        )
    return least


def scholarship_request_create(
    *,
    call: ScholarshipCall,
    application: Application,
    actor: Any,
    need_statement: str,
    amount: Any,
    covers: Sequence[str],
    consent_public_name: bool = False,
    least_amount: Any = None,
    now: dt.datetime | None = None,
) -> ScholarshipRequest:
    """The applicant asks ``call`` for money for one of their own applications; in a call
    with smaller awards, optionally the least that would still let them go."""
    if not (actor.is_authenticated and application.applicant_id == actor.pk):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, check in (
        (
            "need_statement",
            lambda: _clean_text(
                need_statement,
                field="need_statement",
                limit=NEED_STATEMENT_MAX_LENGTH,
                required=_("Say why you need the scholarship."),
            ),
        ),
        ("amount", lambda: _amount(amount, call.currency, field="amount")),
        ("covers", lambda: _clean_covers(covers, call)),
    ):
        try:
            cleaned[name] = check()
        except ValidationError as error:
            errors.update(error.message_dict)
    if "amount" in cleaned:
        try:
            _in_range(cleaned["amount"], call, field="amount")
        except ValidationError as error:
            errors.update(error.message_dict)
    if call.partial_awards and least_amount not in (None, ""):
        try:
            cleaned["least_amount"] = _least_amount(least_amount, cleaned.get("amount"), call)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            list(Application.objects.select_for_update().filter(pk=application.pk).values("pk"))
            application.refresh_from_db()
            reasons = eligibility_reasons(call, application, now=now)
            if reasons:
                raise ValidationError([reason.message for reason in reasons], code="ineligible")
            request = ScholarshipRequest.objects.create(
                call=call,
                application=application,
                consent_public_name=bool(consent_public_name),
                **cleaned,
            )
            audit_record(
                actor=actor,
                action="scholarship_request.submitted",
                target=request,
                to_state=R.SUBMITTED,
                data={
                    "amount": str(request.amount),
                    "least_amount": str(request.least_amount or ""),
                    "currency": call.currency,
                },
            )
    except IntegrityError:
        raise ValidationError(
            _("You already asked this call for a scholarship for this application."),
            code="already_requested",
        ) from None
    return request


def scholarship_request_withdraw(
    *, request: ScholarshipRequest, actor: Any, reason: str = ""
) -> ScholarshipRequest:
    """The applicant takes the request back; an award it holds is released."""
    if not is_applicant(actor, request):
        raise PermissionDenied
    reason = _clean_text(reason, field="reason", limit=TEXT_MAX_LENGTH)
    with transaction.atomic():
        _lock(request)
        if request.status not in PENDING_REQUESTS | {R.AWARDED}:
            raise ValidationError(_("This request is already closed."), code="closed")
        _close_request(request, actor=actor, reason=reason or _("Withdrawn by the applicant."))
    return request


def _close_request(request: ScholarshipRequest, *, actor: Any, reason: str) -> Award | None:
    """Withdraw ``request``; cancel its proposed award or release its committed one."""
    award = Award.objects.select_for_update().filter(request=request).first()
    if award is not None:
        if award.status == A.PROPOSED:
            _move_award(
                award,
                to=A.CANCELLED,
                actor=actor,
                action="award.cancelled",
                reason=reason,
                closed_at=timezone.now(),
            )
        elif award.status in {A.COMMITTED, A.PAID}:
            _release(award, actor=actor, reason=reason, to=A.RELEASED, action="award.released")
    _move_request(
        request, to=R.WITHDRAWN, actor=actor, action="scholarship_request.withdrawn", reason=reason
    )
    return award


def requests_close_for_application(
    *, application: Application, actor: Any, to: str
) -> list[ScholarshipRequest]:
    """Called when ``application`` moved to ``to``: if the stay will not happen, withdraw
    its open requests and release their awards (in the move's transaction)."""
    if to not in CLOSING_STATES:
        return []
    closed = []
    reason = _("The application became “%(state)s”.") % {"state": ApplicationState(to).label}
    requests = ScholarshipRequest.objects.select_for_update().filter(
        application=application, status__in=PENDING_REQUESTS | {R.AWARDED}
    )
    for request in requests.order_by("pk"):
        award = _close_request(request, actor=actor, reason=reason)
        closed.append(request)
        if award is not None and award.status == A.RELEASED:
            _tell(
                network_staff(request.call),
                gettext_noop(
                    "The scholarship award of %(amount)s from %(call)s was released: its "
                    "application was closed."
                ),
                url=award.get_absolute_url(),
                amount=_Money(award.amount, award.currency),
                call=request.call.title,
            )
    return closed


# --------------------------------------------------------------------------- reviews


def request_review_save(
    *, request: ScholarshipRequest, actor: Any, score: Any, comment: str = ""
) -> RequestReview:
    """The reviewer's one score (0-10) of ``request``; saving again changes it."""
    if not can_review(actor, request):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= MAX_SCORE:
        errors["score"] = [_("Give a whole number from 0 to 10.")]
    try:
        comment = _clean_text(comment, field="comment", limit=TEXT_MAX_LENGTH)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    if request.status not in PENDING_REQUESTS or request.call.status in {C.DRAFT, C.CLOSED}:
        raise ValidationError(_("Only requests waiting for a decision are scored."), code="closed")
    with transaction.atomic():
        _lock(request)
        review, created = RequestReview.objects.update_or_create(
            request=request, reviewer=actor, defaults={"score": score, "comment": comment}
        )
        audit_record(
            actor=actor,
            action="scholarship_request.scored",
            target=request,
            data={"score": score, "first": created},
        )
        if request.status == R.SUBMITTED:
            _move_request(
                request, to=R.UNDER_REVIEW, actor=actor, action="scholarship_request.review_started"
            )
    return review


def scholarship_request_adjust(
    *, request: ScholarshipRequest, actor: Any, pin: str, amount: Any = None
) -> ScholarshipRequest:
    """The committee's adjustment before the next proposal: pin to an award or to none,
    and the amount to award (within the call's range; empty: the amount requested)."""
    call = request.call
    if not can_manage(actor, call):
        raise PermissionDenied
    if pin not in Pin.values:
        raise ValidationError({"pin": _("Choose award, no award, or let the allocation decide.")})
    adjusted = None
    if amount not in (None, ""):
        adjusted = _amount(amount, call.currency, field="amount")
        _in_range(adjusted, call, field="amount")
    with transaction.atomic():
        _lock(request)
        if request.status not in PENDING_REQUESTS:
            raise ValidationError(_("Only requests waiting for a decision are adjusted."))
        if call.status not in ALLOCATING_STATUSES:
            raise ValidationError(_("Adjust requests once the call is being reviewed."))
        if adjusted == request.amount:
            adjusted = None
        changed = {
            "pin": [request.pin, pin],
            "amount": [str(request.adjusted_amount or ""), str(adjusted or "")],
        }
        request.pin = pin
        request.adjusted_amount = adjusted
        request.save(update_fields=["pin", "adjusted_amount", "updated_at"])
        audit_record(
            actor=actor, action="scholarship_request.adjusted", target=request, data=changed
        )
    return request


# --------------------------------------------------------------------------- allocation


def priority_of(mean_score: Decimal | float | None) -> str:
    """The engine's priority of a request: its mean review score, to 0.01 ("7.25")."""
    if mean_score is None:
        return "0"
    return str(Decimal(str(mean_score)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass
class Instance:
    """The engine's input for a call, and the requests left out of it (with why)."""

    data: dict[str, Any]
    excluded: dict[str, dict[str, Any]] = field(default_factory=dict)
    mean_scores: dict[str, str] = field(default_factory=dict)

    def entries(self) -> dict[str, Any]:
        """Each pending request as the committee decided on it (priority, pin, amount,
        funds, or why it is left out), without the funds' money (that may move)."""
        found: dict[str, Any] = {item["id"]: item for item in self.data["requests"]}
        found.update({key: {"excluded": value} for key, value in self.excluded.items()})
        return found

    def fund_ids(self) -> list[str]:
        return sorted(item["id"] for item in self.data["funds"])

    def differs_from(self, run: AllocationRun) -> bool:
        """Whether ``run`` no longer describes the pending requests: a review, pin or
        amount changed, or a request came in. Requests withdrawn since do not count
        (their proposals are cancelled with them)."""
        before = Instance(data=run.input or {"requests": [], "funds": []}, excluded=run.excluded)
        if self.fund_ids() != before.fund_ids():
            return True
        old = before.entries()
        return any(old.get(key) != entry for key, entry in self.entries().items())


def _fund_available(funds: Sequence[Any]) -> dict[int, Decimal]:
    from medexchange.funding.selectors import fund_totals_many

    totals = fund_totals_many(funds)
    return {fund.pk: totals[fund.pk].available for fund in funds}


def allocation_instance(call: ScholarshipCall) -> Instance:
    """The engine's instance: the call's funds with what they have available now, and
    its pending requests with their priority and the funds each may draw on."""
    funds = list(call.funds.filter(is_active=True, currency=call.currency).order_by("pk"))
    available = _fund_available(funds)
    requests = (
        call.requests.filter(status__in=PENDING_REQUESTS)
        .select_related("application__home_country")
        .annotate(mean=Avg("reviews__score"), reviewed=Count("reviews"))
        .order_by("pk")
    )
    instance = Instance(
        data={
            "currency": call.currency,
            "minor_digits": _minor_digits(call.currency),
            "funds": [
                {
                    "id": str(fund.pk),
                    "available": _engine_amount(max(available[fund.pk], Decimal(0)), call.currency),
                }
                for fund in funds
            ],
            "requests": [],
            "options": {"allow_split": True},
        }
    )
    request: Any  # annotated with mean and reviewed
    for request in requests:
        key = str(request.pk)
        if request.reviewed:
            instance.mean_scores[key] = priority_of(request.mean)
        if request.application.state not in eligibility.REQUESTABLE_STATES:
            instance.excluded[key] = {"reason_code": "application_closed", "params": {}}
            continue
        country = request.application.home_country
        em_status = country.em_status if country is not None else ""
        usable = [
            str(fund.pk)
            for fund in funds
            if not fund.eligible_em_statuses or em_status in fund.eligible_em_statuses
        ]
        if not usable:
            instance.excluded[key] = {"reason_code": "no_eligible_fund", "params": {}}
            continue
        if not request.reviewed and request.pin != Pin.AWARD:
            instance.excluded[key] = {"reason_code": "not_reviewed", "params": {}}
            continue
        amount = _engine_amount(request.amount_to_award, call.currency)
        item: dict[str, Any] = {
            "id": key,
            "priority": priority_of(request.mean),
            "amount": amount,
            "min_amount": _engine_amount(least_to_award(call, request), call.currency),
            "funds": usable,
        }
        if request.pin:
            item["pinned"] = request.pin
        instance.data["requests"].append(item)
    return instance


def least_to_award(call: ScholarshipCall, request: ScholarshipRequest) -> Decimal:
    """The smallest award the allocation may give the request: the least its applicant
    said still helps in a call with smaller awards, else the whole amount. An amount the
    committee set by hand is given whole."""
    amount = request.amount_to_award
    if not call.partial_awards or request.least_amount is None or request.adjusted_amount:
        return amount
    return min(request.least_amount, amount)


def _minor_digits(currency: str) -> int:
    from medexchange.funding.money import minor_digits

    return minor_digits(currency)


def _engine_amount(amount: Decimal, currency: str) -> str:
    """A decimal string with exactly the currency's decimals, as the engine reads it."""
    from medexchange.funding.money import quantize

    return str(quantize(amount, currency))


def _from_engine(value: Any, currency: str) -> Decimal:
    from medexchange.funding.money import quantize

    return quantize(Decimal(str(value)), currency)


def _solve(instance: dict[str, Any], time_limit: float) -> dict[str, Any]:
    from medexchange.engines.funding import allocate

    return allocate(instance, time_limit=time_limit)


def allocation_propose(
    *, call: ScholarshipCall, actor: Any, time_limit: float | None = None
) -> AllocationRun:
    """Solve the call's allocation now and replace its proposed awards with the result.

    Runs in the request (the engine proves small and mid-size calls optimal in well under
    the time limit); a solve that fails is kept as a failed run with its error.
    """
    if not can_manage(actor, call):
        raise PermissionDenied
    if call.status not in ALLOCATING_STATUSES:
        raise ValidationError(
            _("Awards are proposed once the call is being reviewed."), code="status"
        )
    instance = allocation_instance(call)
    try:
        result = _solve(instance.data, time_limit or allocation_seconds())
    except (ValueError, TypeError, KeyError, RuntimeError) as error:
        with transaction.atomic():
            run = AllocationRun.objects.create(
                call=call,
                input=instance.data,
                result={},
                excluded=instance.excluded,
                status=RunStatus.FAILED,
                error=str(error)[:TEXT_MAX_LENGTH],
                created_by=actor,
            )
            audit_record(
                actor=actor,
                action="allocation_run.failed",
                target=run,
                to_state=RunStatus.FAILED,
                reason=run.error,
            )
        return run
    with transaction.atomic():
        _lock(call)
        run = AllocationRun.objects.create(
            call=call,
            input=instance.data,
            result=result,
            excluded=instance.excluded,
            mean_scores=instance.mean_scores,
            status=RunStatus.DONE,
            objective=_priority_total(result.get("objective")),
            bound=_priority_total(result.get("bound")),
            created_by=actor,
        )
        _replace_proposals(call, run, result, actor)
        audit_record(
            actor=actor,
            action="allocation_run.done",
            target=run,
            to_state=RunStatus.DONE,
            data={
                "status": result.get("status"),
                "objective": str(run.objective),
                "awards": len(result.get("awards", [])),
            },
        )
    return run


def _priority_total(value: Any) -> Decimal | None:
    """The engine's objective or bound (a sum of priorities) as a Decimal to 0.01."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _replace_proposals(
    call: ScholarshipCall, run: AllocationRun, result: dict[str, Any], actor: Any
) -> None:
    """The call's proposed awards become exactly those of ``run``.

    The pending requests are locked first (primary-key order), then their awards: the
    order a withdrawal takes them in (request, then award), so the two cannot deadlock.
    """
    list(
        call.requests.filter(status__in=PENDING_REQUESTS)
        .order_by("pk")
        .select_for_update()
        .values_list("pk")
    )
    stale = Award.objects.filter(request__call=call, status=A.PROPOSED)
    stale_ids = list(stale.values_list("pk", flat=True))
    if stale_ids:
        audit_record(
            actor=actor,
            action="allocation_run.proposals_replaced",
            target=run,
            data={"replaced_awards": stale_ids},
        )
        stale.delete()
    explanations = result.get("explanations", {})
    pending = {
        str(request.pk): request
        for request in call.requests.filter(status__in=PENDING_REQUESTS).exclude(
            award__status__in=[A.COMMITTED, A.PAID, A.RELEASED, A.CANCELLED]
        )
    }
    for item in result.get("awards", []):
        request = pending.get(str(item["request"]))
        if request is None:
            continue
        Award.objects.create(
            request=request,
            run=run,
            amount=_from_engine(item["amount"], call.currency),
            currency=call.currency,
            shares=[
                {
                    "fund": int(share["fund"]),
                    "amount": str(_from_engine(share["amount"], call.currency)),
                }
                for share in item.get("shares", [])
            ],
            reasoning={
                **explanations.get(str(item["request"]), {}),
                "priority": run.mean_scores.get(str(item["request"])),
            },
        )


def latest_run(call: ScholarshipCall) -> AllocationRun | None:
    return call.runs.order_by("-created_at", "-pk").first()


# --------------------------------------------------------------------------- commit


@dataclass
class CommitOutcome:
    committed: list[Award] = field(default_factory=list)
    refused: list[tuple[Award, str]] = field(default_factory=list)
    gone: list[Award] = field(default_factory=list)  # withdrawn since the proposal
    not_awarded: int = 0


#: Why ``award_commit`` refuses a proposal whose request went away meanwhile.
GONE = frozenset({"status", "withdrawn", "closed"})


def award_commit(*, award: Award, actor: Any) -> Award:
    """Reserve the award's money, one commitment per fund share, under each fund's lock.

    Raises ``ValidationError`` (``funding.services.InsufficientFunds`` when a share no
    longer fits) and changes nothing then.
    """
    from medexchange.funding import services as funding
    from medexchange.funding.models import Fund

    call = award.request.call
    if not can_move_money(actor, call):
        raise PermissionDenied
    with transaction.atomic():
        # Lock order everywhere: request, award, then fund rows (primary-key order).
        request = _lock(award.request)
        _lock(award)
        if award.status != A.PROPOSED:
            raise ValidationError(_("This award is no longer a proposal."), code="status")
        if request.status not in PENDING_REQUESTS:
            raise ValidationError(_("The request was withdrawn meanwhile."), code="withdrawn")
        if request.application.state not in eligibility.REQUESTABLE_STATES:
            raise ValidationError(_("The application was closed meanwhile."), code="closed")
        commitments = []
        for share in sorted(award.shares, key=lambda item: int(item["fund"])):
            fund = Fund.objects.get(pk=share["fund"])
            commitments.append(
                funding.commitment_reserve(
                    fund=fund,
                    amount=Decimal(share["amount"]),
                    purpose=_("Scholarship award #%(award)s, %(call)s")
                    % {"award": award.pk, "call": call.title},
                    actor=actor,
                )
            )
        award.commitments.add(*commitments)
        _move_award(
            award,
            to=A.COMMITTED,
            actor=actor,
            action="award.committed",
            committed_by=actor,
            committed_at=timezone.now(),
            status_reason="",
        )
        _move_request(request, to=R.AWARDED, actor=actor, action="scholarship_request.awarded")
        _tell(
            [_applicant(request)],
            gettext_noop("You were awarded a scholarship of %(amount)s from %(call)s."),
            url=request.get_absolute_url(),
            amount=_Money(award.amount, award.currency),
            call=call.title,
        )
    return award


def awards_commit(*, call: ScholarshipCall, actor: Any) -> CommitOutcome:
    """Commit the call's proposed awards, each on its own; refuse those that no longer fit.

    The latest proposal must still describe the requests (no review, pin or amount
    changed since): otherwise propose again first.
    """
    if not can_move_money(actor, call):
        raise PermissionDenied
    if call.status not in ALLOCATING_STATUSES:
        raise ValidationError(_("Awards are committed once the call is being reviewed."))
    run = latest_run(call)
    if run is None or run.status != RunStatus.DONE:
        raise ValidationError(_("Propose awards first."), code="no_run")
    if allocation_instance(call).differs_from(run):
        raise ValidationError(
            _(
                "Reviews, pins or amounts changed since the last proposal: propose awards "
                "again, then commit."
            ),
            code="stale",
        )
    outcome = CommitOutcome()
    proposed = list(
        Award.objects.filter(request__call=call, status=A.PROPOSED)
        .select_related("request")
        .annotate(mean=Avg("request__reviews__score"))
        .order_by("-mean", "pk")
    )
    for award in proposed:
        try:
            outcome.committed.append(award_commit(award=award, actor=actor))
        except ValidationError as error:
            if error.code in GONE:
                outcome.gone.append(award)  # withdrawn meanwhile: nothing to commit
                continue
            message = " ".join(error.messages)
            outcome.refused.append((award, message))
            Award.objects.filter(pk=award.pk, status=A.PROPOSED).update(
                status_reason=message[:TEXT_MAX_LENGTH]
            )
            audit_record(
                actor=actor,
                action="award.commit_refused",
                target=award,
                reason=message,
                data={"amount": str(award.amount), "currency": award.currency},
            )
    with transaction.atomic():
        locked = ScholarshipCall.objects.select_for_update().get(pk=call.pk)
        if not outcome.refused:
            outcome.not_awarded = _tell_not_awarded(locked, actor)
        if outcome.committed and locked.status == C.REVIEWING:
            locked.status = C.ALLOCATED
            locked.save(update_fields=["status", "updated_at"])
            audit_record(
                actor=actor,
                action="scholarship_call.allocated",
                target=locked,
                from_state=C.REVIEWING,
                to_state=C.ALLOCATED,
                data={"committed": len(outcome.committed), "refused": len(outcome.refused)},
            )
    call.refresh_from_db()
    return outcome


def _tell_not_awarded(call: ScholarshipCall, actor: Any) -> int:
    """Requests still pending once every proposed award was committed: not awarded."""
    pending = call.requests.filter(status__in=PENDING_REQUESTS).order_by("pk")
    list(pending.select_for_update().values_list("pk"))
    left = list(pending.select_related("application__applicant"))
    for request in left:
        _move_request(
            request, to=R.NOT_AWARDED, actor=actor, action="scholarship_request.not_awarded"
        )
        _tell(
            [_applicant(request)],
            gettext_noop(
                "Your request to %(call)s was not awarded a scholarship: the funds could not "
                "cover every request."
            ),
            url=request.get_absolute_url(),
            call=call.title,
        )
    return len(left)


# --------------------------------------------------------------------------- release


def _outstanding(commitment: Any) -> Decimal:
    from medexchange.funding.selectors import commitment_outstanding

    return commitment_outstanding(commitment)


def _planned_left(commitments: Sequence[Any]) -> Decimal:
    from medexchange.funding.choices import DisbursementStatus
    from medexchange.funding.models import Disbursement

    return sum(
        (
            item.amount
            for item in Disbursement.objects.filter(
                commitment__in=commitments, status=DisbursementStatus.PLANNED
            )
        ),
        Decimal(0),
    )


def _release(award: Award, *, actor: Any, reason: str, to: str, action: str) -> Decimal:
    """Give back what the award's commitments still hold; returns the amount released.

    Finance staff's planned payments are cancelled first. A release the system makes for
    an applicant (their application was withdrawn) cannot cancel planned payments
    (``funding.services.disbursement_cancel`` is the finance staff's): what they still
    need stays committed until finance staff cancel them on the award's page, which then
    releases it (``award_disbursement_cancel``).
    """
    from medexchange.funding import services as funding
    from medexchange.funding.choices import DisbursementStatus
    from medexchange.funding.models import Disbursement

    commitments = list(award.commitments.order_by("fund_id", "pk"))
    if can_move_money(actor, award.request.call):
        for disbursement in Disbursement.objects.filter(
            commitment__in=commitments, status=DisbursementStatus.PLANNED
        ).order_by("pk"):
            funding.disbursement_cancel(disbursement=disbursement, actor=actor, reason=reason)
    released = Decimal(0)
    for commitment in commitments:
        released += funding.commitment_release(
            commitment=commitment, amount=None, actor=actor, reason=reason
        )
    planned = _planned_left(commitments)
    _move_award(award, to=to, actor=actor, action=action, reason=reason, closed_at=timezone.now())
    audit_record(
        actor=actor,
        action="award.money_released",
        target=award,
        reason=reason,
        data={"released": str(released), "planned_left": str(planned)},
    )
    return released


def award_cancel(*, award: Award, actor: Any, reason: str) -> Award:
    """Finance staff take back a committed award (a mistake, the need went away): its
    outstanding money goes back to the funds and the applicant is told why."""
    call = award.request.call
    if not can_move_money(actor, call):
        raise PermissionDenied
    reason = _clean_text(
        reason, field="reason", limit=TEXT_MAX_LENGTH, required=_("Please give a reason.")
    )
    with transaction.atomic():
        request = _lock(award.request)
        _lock(award)
        if award.status not in {A.COMMITTED, A.PAID}:
            raise ValidationError(_("Only a committed award can be cancelled."), code="status")
        _release(award, actor=actor, reason=reason, to=A.CANCELLED, action="award.cancelled")
        _move_request(
            request,
            to=R.NOT_AWARDED,
            actor=actor,
            action="scholarship_request.award_cancelled",
            reason=reason,
        )
        _tell(
            [_applicant(request)],
            gettext_noop("Your scholarship from %(call)s was cancelled: %(reason)s"),
            url=request.get_absolute_url(),
            call=call.title,
            reason=reason,
        )
    return award


# --------------------------------------------------------------------------- disbursements


def _award_commitment(award: Award, commitment: Any) -> Any:
    if commitment is None:
        commitments = list(award.commitments.all()[:2])
        if len(commitments) != 1:
            raise ValidationError({"commitment": _("Choose the fund to pay from.")})
        return commitments[0]
    if not award.commitments.filter(pk=commitment.pk).exists():
        raise ValidationError({"commitment": _("Choose one of this award's funds.")})
    return commitment


def _award_disbursement(award: Award, disbursement: Any) -> Any:
    if not award.commitments.filter(pk=disbursement.commitment_id).exists():
        raise PermissionDenied
    return disbursement


def _require_money(actor: Any, award: Award) -> None:
    if not can_move_money(actor, award.request.call):
        raise PermissionDenied


def award_disbursement_plan(
    *, award: Award, actor: Any, amount: Any, commitment: Any = None, note: str = ""
) -> Any:
    """Plan a payment of the award (moves no money yet)."""
    from medexchange.funding import services as funding

    _require_money(actor, award)
    if award.status not in {A.COMMITTED, A.PAID}:
        raise ValidationError(_("Only a committed award is paid."), code="status")
    commitment = _award_commitment(award, commitment)
    value = _amount(amount, award.currency, field="amount")
    note = _clean_text(note, field="note", limit=TEXT_MAX_LENGTH)
    with transaction.atomic():
        _lock(award)
        if award.status not in {A.COMMITTED, A.PAID}:
            raise ValidationError(_("Only a committed award is paid."), code="status")
        disbursement = funding.disbursement_plan(
            commitment=commitment, amount=value, actor=actor, note=note
        )
        audit_record(
            actor=actor,
            action="award.disbursement_planned",
            target=award,
            data={"disbursement": disbursement.pk, "amount": str(value)},
        )
    return disbursement


def award_disbursement_pay(
    *,
    award: Award,
    disbursement: Any,
    actor: Any,
    paid_on: dt.date | None = None,
    reference: str = "",
) -> Any:
    """The planned payment went out: the fund's held and committed money go down."""
    from medexchange.funding import services as funding

    _require_money(actor, award)
    _award_disbursement(award, disbursement)
    with transaction.atomic():
        _lock(award)
        if award.status not in {A.COMMITTED, A.PAID}:
            raise ValidationError(
                _(
                    "This award is %(status)s: nothing is paid on it. Cancel the planned "
                    "payment to free its money."
                )
                % {"status": award.get_status_display()},
                code="award_closed",
            )
        disbursement = funding.disbursement_pay(
            disbursement=disbursement, actor=actor, paid_on=paid_on, reference=reference
        )
        audit_record(
            actor=actor,
            action="award.disbursement_paid",
            target=award,
            data={"disbursement": disbursement.pk, "amount": str(disbursement.amount)},
        )
        _refresh_paid(award, actor)
    return disbursement


def award_disbursement_return(
    *,
    award: Award,
    disbursement: Any,
    actor: Any,
    returned_on: dt.date | None = None,
    reason: str = "",
) -> Any:
    """Paid money came back: it is available in the fund again (not re-committed)."""
    from medexchange.funding import services as funding

    _require_money(actor, award)
    _award_disbursement(award, disbursement)
    with transaction.atomic():
        _lock(award)
        disbursement = funding.disbursement_return(
            disbursement=disbursement, actor=actor, returned_on=returned_on, reason=reason
        )
        audit_record(
            actor=actor,
            action="award.disbursement_returned",
            target=award,
            data={"disbursement": disbursement.pk, "amount": str(disbursement.amount)},
        )
    return disbursement


def award_disbursement_cancel(
    *, award: Award, disbursement: Any, actor: Any, reason: str = ""
) -> Any:
    """A planned payment will not be made. Of a released or cancelled award, the money it
    kept committed goes back to the fund at once."""
    from medexchange.funding import services as funding

    _require_money(actor, award)
    _award_disbursement(award, disbursement)
    with transaction.atomic():
        _lock(award)
        disbursement = funding.disbursement_cancel(
            disbursement=disbursement, actor=actor, reason=reason
        )
        released = Decimal(0)
        if award.status in {A.RELEASED, A.CANCELLED}:
            released = funding.commitment_release(
                commitment=disbursement.commitment,
                amount=None,
                actor=actor,
                reason=reason or _("A planned payment of a closed award was cancelled."),
            )
        audit_record(
            actor=actor,
            action="award.disbursement_cancelled",
            target=award,
            reason=reason,
            data={"disbursement": disbursement.pk, "released": str(released)},
        )
    return disbursement


def _refresh_paid(award: Award, actor: Any) -> None:
    """A committed award whose commitments hold nothing more is paid (award locked)."""
    if award.status == A.COMMITTED and all(
        _outstanding(commitment) == 0 for commitment in award.commitments.all()
    ):
        _move_award(award, to=A.PAID, actor=actor, action="award.paid")
