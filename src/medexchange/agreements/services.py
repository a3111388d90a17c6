"""Every change of an agreement: validated, audited, notified; and quota taking.

Status flow (``choices.TRANSITIONS``): a side drafts and proposes (proposing is that
side's approval), the other side accepts (its approval), declines or sends it back to
draft; accepted agreements become active when their first academic year begins and
expire after the last (``agreements_advance``, daily). Network-wide agreements are
proposed by one of the network's staff and accepted by another.

Quota places are taken in ``agreement_attach`` (on submission) and re-checked in
``agreement_recheck`` (on acceptance), each inside the caller's transaction, after the
caller locked the session and the application: the candidate agreements' rows are
locked (``select_for_update``, in primary-key order) and only then are the claims
counted. The agreement row is always the last lock a transaction takes (the
agreement's own services lock nothing else), so the order session → application →
agreement cannot deadlock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import User
from medexchange.agreements import selectors, years
from medexchange.agreements.choices import TRANSITIONS, AgreementStatus, Side
from medexchange.agreements.models import Agreement, Quota
from medexchange.agreements.permissions import can_edit, sides_of, staffs
from medexchange.applications.models import Application
from medexchange.common.notifications import notify_users
from medexchange.common.services import audit_record
from medexchange.documents.services import _stored
from medexchange.documents.uploads import CheckedUpload
from medexchange.network.choices import MembershipStatus
from medexchange.network.models import Membership

S = AgreementStatus
EMAIL_TEMPLATE = "agreements/email/agreement"
REASON_MAX_LENGTH = 2000
REMINDER_DAYS = (90, 30)
AGREEMENT_FIELDS = (
    "title",
    "network",
    "party_a",
    "party_b",
    "first_year",
    "last_year",
    "tuition_waiver",
    "other_terms",
    "unit",
    "tolerance",
)
QUOTA_FIELDS = ("sender", "host", "academic_year", "level", "specialty", "amount")


# --------------------------------------------------------------------------- helpers


def _clean_reason(value: str, *, required: bool) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise ValidationError({"reason": ProhibitNullCharactersValidator.message})
    if required and not value:
        raise ValidationError({"reason": _("Please give a reason.")}, code="required")
    if len(value) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": _("Keep it under %(limit)d characters.") % {"limit": REASON_MAX_LENGTH}}
        )
    return value


def _locked(agreement: Agreement) -> Agreement:
    """Lock the row and reload the caller's own object in place, so it sees the change."""
    list(Agreement.objects.select_for_update().filter(pk=agreement.pk).values_list("pk"))
    agreement.refresh_from_db()
    return agreement


def _move(
    agreement: Agreement,
    *,
    to: str,
    actor: Any,
    action: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
    **values: Any,
) -> Agreement:
    """The one place an agreement's status changes."""
    source = agreement.status
    if to not in TRANSITIONS[source]:
        raise ValidationError(
            _("An agreement that is “%(from)s” cannot become “%(to)s”.")
            % {"from": S(source).label, "to": S(to).label},
            code="invalid_transition",
        )
    agreement.status = to
    for name, value in values.items():
        setattr(agreement, name, value)
    agreement.save()
    audit_record(
        actor=actor,
        action=action,
        target=agreement,
        from_state=source,
        to_state=to,
        reason=reason,
        data=data,
    )
    return agreement


def coordinators_of(agreement: Agreement) -> list[User]:
    """Both sides' coordinators; for a network-wide agreement, its members' coordinators."""
    if agreement.is_network_wide:
        institutions: Any = Membership.objects.filter(
            network_id=agreement.network_id or 0, status=MembershipStatus.ACTIVE
        ).values("institution_id")
    else:
        institutions = [agreement.party_a_id, agreement.party_b_id]
    return list(
        User.objects.filter(
            is_active=True,
            institution_roles__institution_id__in=institutions,
            institution_roles__role=InstitutionRoleKind.COORDINATOR,
        )
        .distinct()
        .order_by("pk")
    )


def _side_users(agreement: Agreement, side: str) -> list[User]:
    """Who speaks for ``side``: a party's coordinators, or the network's staff."""
    if side == Side.NETWORK:
        return list(
            User.objects.filter(
                is_active=True, network_staff_roles__network_id=agreement.network_id or 0
            ).distinct()
        )
    institution = agreement.party_a_id if side == Side.A else agreement.party_b_id
    return list(
        User.objects.filter(
            is_active=True,
            institution_roles__institution_id=institution or 0,
            institution_roles__role=InstitutionRoleKind.COORDINATOR,
        ).distinct()
    )


def _tell(users: Iterable[User], agreement: Agreement, message: str, **params: Any) -> None:
    recipients = [user for user in users if user is not None]
    if recipients:
        notify_users(
            users=recipients,
            message=message,
            params={"agreement": agreement.title, **params},
            url=agreement.get_absolute_url(),
            email_template=EMAIL_TEMPLATE,
            email_context={"agreement_id": agreement.pk},
        )


def _other_side(agreement: Agreement) -> str:
    if agreement.is_network_wide:
        return Side.NETWORK
    return Side.B if agreement.proposed_by_side == Side.A else Side.A


def _require_side(actor: Any, agreement: Agreement) -> set[str]:
    sides = sides_of(actor, agreement)
    if not sides:
        raise PermissionDenied
    return sides


# --------------------------------------------------------------------------- drafting


def _active_member(institution_id: int) -> bool:
    return Membership.objects.filter(
        institution_id=institution_id, status=MembershipStatus.ACTIVE
    ).exists()


def _validate(actor: Any, values: dict[str, Any], quotas: Sequence[dict[str, Any]]) -> None:
    """The rules a draft must keep, whoever calls (form, API, admin)."""
    errors: dict[str, list[str]] = {}
    network = values.get("network")
    party_a, party_b = values.get("party_a"), values.get("party_b")
    if network is not None:
        if party_a is not None or party_b is not None:
            errors.setdefault("network", []).append(
                _("A network-wide agreement has no parties: leave both parties empty.")
            )
        elif not staffs(actor, network.pk):
            errors.setdefault("network", []).append(
                _("Only the network's staff draft its network-wide agreements.")
            )
    else:
        if party_a is None:
            errors.setdefault("party_a", []).append(_("Choose the first party."))
        if party_b is None:
            errors.setdefault("party_b", []).append(_("Choose the other party."))
        if party_a is not None and party_b is not None:
            if party_a == party_b:
                errors.setdefault("party_b", []).append(
                    _("An agreement is between two different institutions.")
                )
            mine = set(actor.coordinated_institution_ids())
            if not actor.is_superuser and not {party_a.pk, party_b.pk} & mine:
                errors.setdefault("party_a", []).append(
                    _("You can only draft agreements of an institution you coordinate.")
                )
            for name, party in (("party_a", party_a), ("party_b", party_b)):
                if not _active_member(party.pk):
                    errors.setdefault(name, []).append(
                        _("%(name)s is not an active member of a network.") % {"name": party}
                    )
    first, last = values.get("first_year"), values.get("last_year")
    for name, year in (("first_year", first), ("last_year", last)):
        if year is None:
            errors.setdefault(name, []).append(_("Give the academic year, e.g. 2026 for 2026/27."))
    if first is not None and last is not None and last < first:
        errors.setdefault("last_year", []).append(
            _("The last academic year cannot be before the first.")
        )
    members = selectors.active_member_ids(network.pk) if network is not None else set()
    if network is None and (values.get("party_a") is None or values.get("party_b") is None):
        quotas = ()  # the quotas are checked against both parties, once they are chosen
    for quota in quotas:
        problem = quota_problem(quota, values, members)
        if problem:
            errors.setdefault("quotas", []).append(problem)
    if errors:
        raise ValidationError(errors)


def quota_problem(quota: dict[str, Any], values: dict[str, Any], members: set[int]) -> str:
    sender, host = quota.get("sender"), quota.get("host")
    network = values.get("network")
    if network is None:
        parties = {values["party_a"].pk, values["party_b"].pk}
        if sender is None or host is None or {sender.pk, host.pk} != parties:
            return _("A quota goes from one party to the other: choose both, in either order.")
    elif sender is not None or host is not None:
        if sender is None or host is None or sender == host:
            return _("Choose both the sender and the host, or neither (every pair of members).")
        if sender.pk not in members or host.pk not in members:
            return _("The sender and the host must be active members of the network.")
    year = quota.get("academic_year")
    first, last = values.get("first_year"), values.get("last_year")
    if year is not None and first is not None and last is not None and not first <= year <= last:
        return _("The quota's academic year must be one of the agreement's years.")
    if int(quota.get("amount") or 0) < 1:
        return _("A quota is at least 1.")
    return ""


def _write_quotas(agreement: Agreement, quotas: Sequence[dict[str, Any]]) -> None:
    agreement.quotas.all().delete()
    Quota.objects.bulk_create(
        [
            Quota(
                agreement=agreement,
                **{name: quota.get(name) for name in QUOTA_FIELDS if name != "level"},
                level=quota.get("level") or "",
            )
            for quota in quotas
        ]
    )


def _quota_data(quotas: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {name: getattr(q.get(name), "pk", q.get(name)) for name in QUOTA_FIELDS} for q in quotas
    ]


def agreement_create(
    *, actor: Any, values: dict[str, Any], quotas: Sequence[dict[str, Any]] = ()
) -> Agreement:
    """A new draft, by a coordinator of one of the parties or the network's staff."""
    if not actor.is_authenticated:
        raise PermissionDenied
    _validate(actor, values, quotas)
    with transaction.atomic():
        agreement = Agreement.objects.create(
            created_by=actor, **{name: values[name] for name in AGREEMENT_FIELDS if name in values}
        )
        _write_quotas(agreement, quotas)
        audit_record(
            actor=actor,
            action="agreement.created",
            target=agreement,
            to_state=S.DRAFT,
            data={"quotas": _quota_data(quotas)},
        )
    return agreement


def agreement_update(
    *,
    agreement: Agreement,
    actor: Any,
    values: dict[str, Any],
    quotas: Sequence[dict[str, Any]],
) -> Agreement:
    """Change a draft's terms and replace its quotas; a proposed agreement is frozen."""
    if not can_edit(actor, agreement):
        raise PermissionDenied
    _validate(actor, values, quotas)
    with transaction.atomic():
        agreement = _locked(agreement)
        if agreement.status != S.DRAFT:
            raise ValidationError(_("Only a draft can be changed."), code="not_draft")
        changed = {}
        for name in AGREEMENT_FIELDS:
            if name not in values:
                continue
            value = values[name]
            if getattr(agreement, name) != value:
                changed[name] = str(getattr(value, "pk", value))
                setattr(agreement, name, value)
        agreement.save()
        _write_quotas(agreement, quotas)
        audit_record(
            actor=actor,
            action="agreement.updated",
            target=agreement,
            data={"changed": changed, "quotas": _quota_data(quotas)},
        )
    return agreement


def agreement_propose(*, agreement: Agreement, actor: Any) -> Agreement:
    """Send the draft to the other side; proposing is the proposer's side's approval."""
    sides = _require_side(actor, agreement)
    with transaction.atomic():
        agreement = _locked(agreement)
        if not agreement.quotas.exists():
            raise ValidationError(
                _("Add at least one quota before proposing the agreement."), code="no_quota"
            )
        side = Side.NETWORK if agreement.is_network_wide else sorted(sides)[0]
        now = timezone.now()
        approval: dict[str, Any] = {"b_approved_at": None, "b_approved_by": None}
        approval |= {"a_approved_at": None, "a_approved_by": None}
        slot = "b" if side == Side.B else "a"
        approval |= {f"{slot}_approved_at": now, f"{slot}_approved_by": actor}
        _move(
            agreement,
            to=S.PROPOSED,
            actor=actor,
            action="agreement.proposed",
            data={"side": side},
            proposed_by_side=side,
            status_reason="",
            **approval,
        )
    _tell(
        _side_users(agreement, _other_side(agreement)),
        agreement,
        gettext_noop("“%(agreement)s” is proposed to you: please accept, decline or comment."),
    )
    return agreement


def _answering_side(actor: Any, agreement: Agreement) -> str:
    """The proposal is answered by the other side, never by the one who proposed it."""
    sides = _require_side(actor, agreement)
    other = _other_side(agreement)
    # Someone coordinating both parties still cannot approve for both.
    proposer = not agreement.is_network_wide and actor.pk in (
        agreement.a_approved_by_id,
        agreement.b_approved_by_id,
    )
    if agreement.status == S.PROPOSED and (other not in sides or proposer):
        raise ValidationError(
            _("The other side answers this proposal: you proposed it."), code="own_proposal"
        )
    if agreement.is_network_wide and actor.pk == agreement.a_approved_by_id:
        raise ValidationError(
            _("Another of the network's staff must accept: you proposed it."), code="own_proposal"
        )
    return other


def agreement_accept(
    *, agreement: Agreement, actor: Any, today: dt.date | None = None
) -> Agreement:
    """The other side's approval; in force at once if its first year has begun."""
    with transaction.atomic():
        agreement = _locked(agreement)
        if agreement.status != S.PROPOSED:
            raise ValidationError(_("There is no proposal to accept."), code="not_proposed")
        side = _answering_side(actor, agreement)
        slot = "b" if side == Side.B or (side == Side.NETWORK) else "a"
        _move(
            agreement,
            to=S.ACCEPTED,
            actor=actor,
            action="agreement.accepted",
            data={"side": side},
            **{f"{slot}_approved_at": timezone.now(), f"{slot}_approved_by": actor},
        )
        _advance_one(agreement, today or timezone.localdate())
    _tell(
        coordinators_of(agreement) if not agreement.is_network_wide else [],
        agreement,
        gettext_noop("“%(agreement)s” was accepted by both sides."),
    )
    return agreement


def agreement_decline(*, agreement: Agreement, actor: Any, reason: str) -> Agreement:
    reason = _clean_reason(reason, required=True)
    with transaction.atomic():
        agreement = _locked(agreement)
        if agreement.status != S.PROPOSED:
            raise ValidationError(_("There is no proposal to decline."), code="not_proposed")
        side = _answering_side(actor, agreement)
        _move(
            agreement,
            to=S.DECLINED,
            actor=actor,
            action="agreement.declined",
            reason=reason,
            data={"side": side},
            status_reason=reason,
        )
    _tell(
        _side_users(agreement, agreement.proposed_by_side),
        agreement,
        gettext_noop("“%(agreement)s” was declined: %(reason)s"),
        reason=reason,
    )
    return agreement


def agreement_return_to_draft(*, agreement: Agreement, actor: Any, reason: str) -> Agreement:
    """Either side reopens a proposal for changes; both approvals are cleared."""
    reason = _clean_reason(reason, required=True)
    sides = _require_side(actor, agreement)
    with transaction.atomic():
        agreement = _locked(agreement)
        if agreement.status != S.PROPOSED:
            raise ValidationError(_("Only a proposal goes back to draft."), code="not_proposed")
        _move(
            agreement,
            to=S.DRAFT,
            actor=actor,
            action="agreement.returned_to_draft",
            reason=reason,
            data={"side": sorted(sides)[0]},
            status_reason=reason,
            a_approved_at=None,
            a_approved_by=None,
            b_approved_at=None,
            b_approved_by=None,
        )
    _tell(
        [u for side in ("a", "b", "network") for u in _side_users_safe(agreement, side)],
        agreement,
        gettext_noop("“%(agreement)s” went back to draft: %(reason)s"),
        reason=reason,
    )
    return agreement


def _side_users_safe(agreement: Agreement, side: str) -> list[User]:
    if (side == Side.NETWORK) != agreement.is_network_wide:
        return []
    return _side_users(agreement, side)


def agreement_terminate(*, agreement: Agreement, actor: Any, reason: str) -> Agreement:
    """Either side ends an agreement early. Applications already under it keep it."""
    reason = _clean_reason(reason, required=True)
    sides = _require_side(actor, agreement)
    with transaction.atomic():
        agreement = _locked(agreement)
        _move(
            agreement,
            to=S.TERMINATED,
            actor=actor,
            action="agreement.terminated",
            reason=reason,
            data={"side": sorted(sides)[0]},
            status_reason=reason,
        )
    _tell(
        coordinators_of(agreement),
        agreement,
        gettext_noop("“%(agreement)s” was terminated: %(reason)s"),
        reason=reason,
    )
    return agreement


def agreement_document_upload(
    *, agreement: Agreement, actor: Any, upload: CheckedUpload
) -> Agreement:
    """Keep the signed PDF in the private storage; a new upload replaces the old one."""
    _require_side(actor, agreement)
    if agreement.status in {S.DECLINED, S.TERMINATED, S.EXPIRED}:
        raise ValidationError(_("This agreement is closed."), code="closed")
    with _stored(upload) as storage_name, transaction.atomic():
        agreement = _locked(agreement)
        previous = agreement.document_storage_name
        agreement.document_storage_name = storage_name
        agreement.document_name = upload.original_name
        agreement.document_size = upload.size
        agreement.document_sha256 = upload.sha256
        agreement.document_uploaded_at = timezone.now()
        agreement.document_uploaded_by = actor
        agreement.save()
        audit_record(
            actor=actor,
            action="agreement.document_uploaded",
            target=agreement,
            data={"name": upload.original_name, "sha256": upload.sha256, "size": upload.size},
        )
    if previous:
        from medexchange.documents.models import private_storage

        transaction.on_commit(lambda: private_storage().delete(previous))
    return agreement


# --------------------------------------------------------------------------- the daily job


def _advance_one(agreement: Agreement, today: dt.date) -> str | None:
    """Accepted → active once the first year began; → expired after the last ended."""
    if agreement.status not in {S.ACCEPTED, S.ACTIVE}:
        return None
    if today > agreement.ends_on:
        _move(agreement, to=S.EXPIRED, actor=None, action="agreement.expired")
        return S.EXPIRED
    if agreement.status == S.ACCEPTED and today >= agreement.starts_on:
        _move(agreement, to=S.ACTIVE, actor=None, action="agreement.activated")
        return S.ACTIVE
    return None


def agreements_advance(*, today: dt.date | None = None) -> dict[str, int]:
    """The daily job: start and end agreements, and send the renewal reminders once."""
    today = today or timezone.localdate()
    counts = {"activated": 0, "expired": 0, "reminded": 0}
    due = Agreement.objects.filter(status__in=[S.ACCEPTED, S.ACTIVE]).order_by("pk")
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            agreement = Agreement.objects.select_for_update().get(pk=pk)
            moved = _advance_one(agreement, today)
            if moved == S.ACTIVE:
                counts["activated"] += 1
            elif moved == S.EXPIRED:
                counts["expired"] += 1
            if agreement.status == S.ACTIVE and _remind(agreement, today):
                counts["reminded"] += 1
    return counts


def _remind(agreement: Agreement, today: dt.date) -> bool:
    """90 and 30 days before expiry, once each; a late run sends only the nearer one."""
    left = (agreement.ends_on - today).days
    for days in sorted(REMINDER_DAYS):
        field = f"reminded_{days}_at"
        if left <= days and getattr(agreement, field) is None:
            stamp = {f"reminded_{d}_at": timezone.now() for d in REMINDER_DAYS if d >= days}
            Agreement.objects.filter(pk=agreement.pk).update(**stamp)
            audit_record(
                actor=None,
                action="agreement.renewal_reminded",
                target=agreement,
                data={"days": days},
            )
            _tell(
                coordinators_of(agreement),
                agreement,
                gettext_noop(
                    "“%(agreement)s” expires on %(date)s, in %(days)s days. Time to renew it."
                ),
                date=agreement.ends_on.isoformat(),
                days=left,
            )
            return True
    return False


# --------------------------------------------------------------------------- quotas


def _room(
    agreement: Agreement,
    application: Application,
    facts: selectors.Facts,
    *,
    seats_only: bool = False,
) -> tuple[bool, bool]:
    """(covered by a quota, room left in every quota it matches)."""
    matching = facts.matching(agreement.quotas.all())
    if not matching:
        return False, False
    rows = selectors.usage_rows([agreement.pk], exclude=[application.pk], seats_only=seats_only)
    need = selectors.need_of(application, agreement.unit)
    for quota in matching:
        used = selectors.quota_used(
            quota,
            rows,
            sender_id=facts.sender_id,
            host_id=facts.host_id,
            year=facts.year,
            unit=agreement.unit,
        )
        if used + need > quota.amount:
            return True, False
    return True, True


def _lock_agreements(candidates: Sequence[Agreement]) -> None:
    list(
        Agreement.objects.select_for_update()
        .filter(pk__in=[agreement.pk for agreement in candidates])
        .order_by("pk")
        .values_list("pk")
    )


def agreement_attach(*, application: Application) -> Agreement | None:
    """Put a just-submitted application under the active agreement that covers it and
    has room, and tell the applicant and the host either way when an agreement applies.

    Call inside the submission's transaction, after the session and application locks.
    """
    facts = selectors.facts_of(application)
    if facts is None:
        return None
    candidates = selectors.covering_agreements(facts)
    if not candidates:
        return None
    _lock_agreements(candidates)
    full: Agreement | None = None
    for agreement in candidates:
        covered, room = _room(agreement, application, facts)
        if covered and room:
            _standing_changed(
                application,
                agreement,
                under=agreement,
                action="agreement.application_attached",
                message=gettext_noop(
                    "%(application)s counts against the agreement “%(agreement)s”."
                ),
                year=facts.year,
            )
            return agreement
        if covered and full is None:
            full = agreement
    if full is not None:
        _standing_changed(
            application,
            full,
            under=None,
            action="agreement.quota_used_up",
            message=gettext_noop(
                "%(application)s is not under the agreement “%(agreement)s”: the quota for "
                "%(year)s is used up."
            ),
            year=facts.year,
        )
    return None


def agreement_recheck(*, application: Application) -> Agreement | None:
    """On acceptance: keep the agreement only if the quota still has room, else drop it
    (an offer accepted after others used the quota up never overruns it)."""
    agreement = application.agreement
    facts = selectors.facts_of(application)
    if agreement is None or facts is None:
        return agreement
    _lock_agreements([agreement])
    agreement.refresh_from_db()
    _covered, room = _room(agreement, application, facts, seats_only=True)
    if room and agreement.status == S.ACTIVE:
        return agreement
    _standing_changed(
        application,
        agreement,
        under=None,
        action="agreement.application_detached",
        message=gettext_noop(
            "%(application)s is no longer under the agreement “%(agreement)s”: the quota for "
            "%(year)s was used up before the offer was accepted."
        ),
        year=facts.year,
    )
    return None


def _standing_changed(
    application: Application,
    agreement: Agreement,
    *,
    under: Agreement | None,
    action: str,
    message: str,
    year: int,
) -> None:
    """Put the application under ``under`` (or none), audit why, tell both sides."""
    if application.agreement_id != (under.pk if under else None):
        Application.objects.filter(pk=application.pk).update(agreement=under)
        application.agreement = under
    audit_record(
        actor=None,
        action=action,
        target=application,
        data={"agreement": agreement.pk, "year": year},
    )
    _tell_parties(application, agreement, message, year=years.year_label(year))


def _tell_parties(
    application: Application, agreement: Agreement, message: str, **params: Any
) -> None:
    """The applicant and the host's coordinators."""
    host_id = application.session.opportunity.host_id
    users: list[User] = list(
        User.objects.filter(
            Q(pk=application.applicant_id)
            | Q(
                institution_roles__institution_id=host_id,
                institution_roles__role=InstitutionRoleKind.COORDINATOR,
            ),
            is_active=True,
        )
        .distinct()
        .order_by("pk")
    )
    if users:
        notify_users(
            users=users,
            message=message,
            params={
                "application": application.session.opportunity.title,
                "agreement": agreement.title,
                **params,
            },
            url=application.get_absolute_url(),
            email_template=EMAIL_TEMPLATE,
            email_context={"agreement_id": agreement.pk},
        )
