"""State changes of the network directory; each one is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import User
from medexchange.accounts.services import invitation_send
from medexchange.catalog.models import refresh_search_text
from medexchange.common.notifications import email_after_commit, notify_users
from medexchange.common.services import audit_record
from medexchange.common.slugs import unique_slug
from medexchange.network.choices import JoinRequestStatus, MembershipStatus
from medexchange.network.models import (
    CountryProfile,
    Institution,
    JoinRequest,
    Membership,
    Network,
    Site,
)

_M = TypeVar("_M", bound=models.Model)

INSTITUTION_EDITABLE_FIELDS = (
    "name",
    "kind",
    "country",
    "city",
    "address",
    "latitude",
    "longitude",
    "languages",
    "website",
    "description",
    "time_zone",
)


def unique_institution_slug(name: str, city: str) -> str:
    # Names in non-Latin scripts slugify to nothing: the city then names the address.
    return unique_slug(
        name, taken=Institution.objects.all(), fallback=slugify(city) or "institution"
    )


def _update_audited(instance: _M, *, actor: Any, action: str, values: dict[str, Any]) -> _M:
    """Apply ``values``, validate, save and audit old → new of what really changed."""
    changes: dict[str, list[str]] = {}
    for field, new in values.items():
        old = getattr(instance, field)
        if old != new:
            changes[field] = [str(old), str(new)]
            setattr(instance, field, new)
    if changes:
        instance.full_clean()
        instance.save()
        audit_record(actor=actor, action=action, target=instance, data=changes)
    return instance


def network_staff_to_notify(network: Network) -> QuerySet[User]:
    """The network's own staff; platform superusers when it has none yet."""
    staff = User.objects.filter(network_staff_roles__network=network, is_active=True)
    if staff.exists():
        return staff
    return User.objects.filter(is_superuser=True, is_active=True)


@transaction.atomic
def join_request_submit(*, values: dict[str, Any], language: str = "en") -> JoinRequest:
    """Record an institution's application and tell its contact we have it."""
    if not values.get("agrees_to_values"):
        raise ValidationError(
            {"agrees_to_values": _("Members must agree to the network's values.")}
        )
    join_request = JoinRequest(**values, language=language)
    join_request.full_clean()
    join_request.save()
    audit_record(
        actor=None,
        action="join_request.submitted",
        target=join_request,
        to_state=JoinRequestStatus.SUBMITTED,
        data={"network": join_request.network.slug, "contact": join_request.contact_email},
    )
    notify_users(
        users=network_staff_to_notify(join_request.network),
        message=gettext_noop("%(institution)s applied to join %(network)s."),
        params={"institution": join_request.institution_name, "network": join_request.network},
        url=reverse("network:join-detail", args=[join_request.pk]),
        email_template="network/email/join_request_new",
    )
    _email_contact(join_request, "join_request_received")
    return join_request


def _email_contact(join_request: JoinRequest, template: str, **context: Any) -> None:
    """Write to the applicant's contact person, in the language they applied in."""
    email_after_commit(
        to=join_request.contact_email,
        template=f"network/email/{template}",
        context={
            "contact_name": join_request.contact_name,
            "institution_name": join_request.institution_name,
            "network_name": join_request.network.name,
            **context,
        },
        language=join_request.language,
    )


def _lock_open_request(join_request: JoinRequest) -> JoinRequest:
    """Re-read under a row lock so two staff cannot decide the same request twice."""
    locked = JoinRequest.objects.select_for_update().get(pk=join_request.pk)
    if locked.status != JoinRequestStatus.SUBMITTED:
        raise ValidationError(
            _("This request was already %(status)s.")
            % {"status": locked.get_status_display().lower()}
        )
    return locked


@transaction.atomic
def join_request_approve(*, join_request: JoinRequest, actor: Any, note: str = "") -> Institution:
    """Approve: create the institution, its active membership and a coordinator invitation."""
    join_request = _lock_open_request(join_request)
    today = timezone.localdate()
    institution = Institution.objects.create(
        name=join_request.institution_name,
        slug=unique_institution_slug(join_request.institution_name, join_request.city),
        kind=join_request.kind,
        country=join_request.country,
        city=join_request.city,
        address=join_request.address,
        latitude=join_request.latitude,
        longitude=join_request.longitude,
        languages=join_request.languages,
        website=join_request.website,
        description=join_request.description,
    )
    audit_record(actor=actor, action="institution.created", target=institution)
    membership = Membership.objects.create(
        institution=institution,
        network=join_request.network,
        status=MembershipStatus.ACTIVE,
        applied_on=join_request.submitted_at.date(),
        joined_on=today,
    )
    audit_record(
        actor=actor,
        action="membership.activated",
        target=membership,
        from_state=MembershipStatus.APPLIED,
        to_state=MembershipStatus.ACTIVE,
    )
    join_request.status = JoinRequestStatus.APPROVED
    join_request.decided_at = timezone.now()
    join_request.decided_by = actor
    join_request.decision_reason = note
    join_request.institution = institution
    join_request.save()
    audit_record(
        actor=actor,
        action="join_request.approved",
        target=join_request,
        from_state=JoinRequestStatus.SUBMITTED,
        to_state=JoinRequestStatus.APPROVED,
        reason=note,
    )
    invitation = invitation_send(
        email=join_request.contact_email,
        institution=institution,
        role=InstitutionRoleKind.COORDINATOR,
        actor=actor,
        language=join_request.language,
        notify=False,
    )
    _email_contact(
        join_request,
        "join_request_approved",
        note=note,
        invitation_path=invitation.get_absolute_url(),
    )
    return institution


@transaction.atomic
def join_request_decline(*, join_request: JoinRequest, actor: Any, reason: str) -> JoinRequest:
    """Decline with a reason the contact reads."""
    if not reason.strip():
        raise ValidationError({"reason": _("Give the applicant a reason.")})
    join_request = _lock_open_request(join_request)
    join_request.status = JoinRequestStatus.DECLINED
    join_request.decided_at = timezone.now()
    join_request.decided_by = actor
    join_request.decision_reason = reason.strip()
    join_request.save()
    audit_record(
        actor=actor,
        action="join_request.declined",
        target=join_request,
        from_state=JoinRequestStatus.SUBMITTED,
        to_state=JoinRequestStatus.DECLINED,
        reason=join_request.decision_reason,
    )
    _email_contact(join_request, "join_request_declined", reason=join_request.decision_reason)
    return join_request


@transaction.atomic
def institution_update(
    *, institution: Institution, actor: Any, values: dict[str, Any]
) -> Institution:
    unknown = set(values) - set(INSTITUTION_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    searched_words = (institution.name, institution.city)
    _update_audited(institution, actor=actor, action="institution.updated", values=values)
    if (institution.name, institution.city) != searched_words:
        # Applicants find a host's opportunities by its name and city.
        refresh_search_text(institution.opportunities.all())
    return institution


@transaction.atomic
def site_save(
    *, institution: Institution, actor: Any, values: dict[str, Any], site: Site | None = None
) -> Site:
    """Create a site of ``institution``, or update ``site`` (which must belong to it)."""
    if site is None:
        site = Site(institution=institution, **values)
        site.full_clean()
        site.save()
        audit_record(actor=actor, action="site.created", target=site)
        return site
    if site.institution_id != institution.pk:
        raise ValidationError(_("This site belongs to another institution."))
    return _update_audited(site, actor=actor, action="site.updated", values=values)


@transaction.atomic
def membership_set_status(
    *, membership: Membership, status: str, actor: Any, reason: str = ""
) -> Membership:
    """Move a membership along applied → active → suspended/left, dating each step."""
    allowed = {
        MembershipStatus.APPLIED: {MembershipStatus.ACTIVE, MembershipStatus.LEFT},
        MembershipStatus.ACTIVE: {MembershipStatus.SUSPENDED, MembershipStatus.LEFT},
        MembershipStatus.SUSPENDED: {MembershipStatus.ACTIVE, MembershipStatus.LEFT},
        MembershipStatus.LEFT: {MembershipStatus.ACTIVE},
    }
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    previous = membership.status
    if status not in allowed[MembershipStatus(previous)]:
        raise ValidationError(
            _("A membership cannot go from %(from)s to %(to)s.") % {"from": previous, "to": status}
        )
    today: dt.date = timezone.localdate()
    membership.status = status
    if status == MembershipStatus.ACTIVE:
        membership.joined_on = membership.joined_on or today
        membership.ended_on = None
    elif status == MembershipStatus.LEFT:
        membership.ended_on = today
    membership.save()
    audit_record(
        actor=actor,
        action=f"membership.{status}",
        target=membership,
        from_state=previous,
        to_state=status,
        reason=reason,
    )
    return membership


@transaction.atomic
def membership_create(
    *, institution: Institution, network: Network, actor: Any, status: str
) -> Membership:
    today = timezone.localdate()
    membership = Membership.objects.create(
        institution=institution,
        network=network,
        status=status,
        applied_on=today,
        joined_on=today if status == MembershipStatus.ACTIVE else None,
    )
    audit_record(actor=actor, action="membership.created", target=membership, to_state=status)
    return membership


@transaction.atomic
def country_profile_update(
    *, profile: CountryProfile, actor: Any, values: dict[str, Any]
) -> CountryProfile:
    return _update_audited(profile, actor=actor, action="country_profile.updated", values=values)
