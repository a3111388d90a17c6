"""State changes of people and roles; each one is audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from medexchange.accounts.models import (
    ApplicantProfile,
    InstitutionRole,
    Invitation,
    User,
    normalize_phone,
)
from medexchange.catalog.models import Specialty
from medexchange.common.notifications import email_after_commit, notify_users
from medexchange.common.services import audit_record
from medexchange.network.models import CountryProfile, Institution


@transaction.atomic
def user_update_preferences(
    *,
    user: User,
    actor: Any,
    preferred_language: str | None = None,
    time_zone: str | None = None,
    full_name: str | None = None,
) -> User:
    changes: dict[str, list[str]] = {}
    for field, value in (
        ("preferred_language", preferred_language),
        ("time_zone", time_zone),
        ("full_name", full_name),
    ):
        if value is not None and getattr(user, field) != value:
            changes[field] = [getattr(user, field), value]
            setattr(user, field, value)
    if changes:
        user.full_clean(exclude=["password"])
        user.save(update_fields=list(changes))
        audit_record(actor=actor, action="user.preferences_updated", target=user, data=changes)
    return user


@transaction.atomic
def invitation_send(
    *,
    email: str,
    institution: Any,
    role: str,
    actor: Any,
    language: str = "en",
    notify: bool = True,
) -> Invitation:
    """Invite someone to a role; ``notify=False`` when the caller's own e-mail carries the link."""
    email = email.strip().lower()
    if InstitutionRole.objects.filter(
        user__email__iexact=email, institution=institution, role=role
    ).exists():
        raise ValidationError({"email": _("This person already has that role here.")})
    invitation = Invitation.objects.create(
        email=email, institution=institution, role=role, invited_by=actor
    )
    audit_record(
        actor=actor,
        action="invitation.sent",
        target=invitation,
        to_state="pending",
        data={"email": email, "role": role, "institution": institution.slug},
    )
    if notify:
        email_after_commit(
            to=email,
            template="accounts/email/invitation",
            context={
                "institution_name": institution.name,
                "role": invitation.get_role_display(),
                "invited_by": str(actor) if actor else "",
                "invitation_path": invitation.get_absolute_url(),
            },
            language=language,
        )
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> InstitutionRole:
    """Turn an open invitation into a role for the signed-in person it was sent to."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise ValidationError(_("This invitation has expired or was already used."))
    if invitation.email.lower() != user.email.lower():
        raise PermissionDenied(
            _("This invitation was sent to %(email)s. Sign in with that address to accept it.")
            % {"email": invitation.email}
        )
    role, _created = InstitutionRole.objects.get_or_create(
        user=user, institution=invitation.institution, role=invitation.role
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        actor=user,
        action="invitation.accepted",
        target=invitation,
        from_state="pending",
        to_state="accepted",
    )
    if invitation.invited_by and invitation.invited_by != user:
        notify_users(
            users=[invitation.invited_by],
            message=gettext_noop("%(person)s accepted your invitation to %(institution)s."),
            params={"person": user, "institution": invitation.institution},
            url=invitation.institution.get_absolute_url(),
        )
    audit_record(
        actor=user,
        action="role.granted",
        target=role,
        data={"role": role.role, "institution": invitation.institution.slug},
    )
    return role


@transaction.atomic
def role_revoke(*, role: InstitutionRole, actor: Any) -> None:
    audit_record(
        actor=actor,
        action="role.revoked",
        target=role,
        data={"user": role.user.email, "role": role.role},
    )
    role.delete()


#: What ``applicant_profile_update`` accepts in ``values``.
APPLICANT_PROFILE_FIELDS = (
    "training_level",
    "training_year",
    "home_country",
    "home_institution",
    "home_institution_name",
    "specialty_interests",
    "nationality",
    "languages",
    "phone",
    "emergency_contact_name",
    "emergency_contact_phone",
    "emergency_contact_relationship",
    "time_zone",  # lives on the user: saved through ``user_update_preferences``
)
_PHONE_FIELDS = ("phone", "emergency_contact_phone")
_TEXT_FIELDS = ("home_institution_name", "emergency_contact_name", "emergency_contact_relationship")


def _audit_value(value: Any) -> Any:
    """A JSON-friendly form of a profile value (countries by ISO code, institutions by slug)."""
    if isinstance(value, CountryProfile):
        return str(value.code)
    if isinstance(value, Institution):
        return value.slug
    return value


def _specialties(value: Any) -> list[Specialty]:
    specialties = list(value or [])
    if not all(isinstance(item, Specialty) and item.pk for item in specialties):
        raise ValidationError(
            {"specialty_interests": ValidationError(_("Choose specialties from the list."))}
        )
    return specialties


@transaction.atomic
def applicant_profile_update(*, user: User, actor: Any, values: dict[str, Any]) -> ApplicantProfile:
    """Create or change ``user``'s applicant profile; only the person themselves may.

    ``values`` holds any of ``APPLICANT_PROFILE_FIELDS``; the others keep their value.
    ``specialty_interests`` is a list of ``Specialty``; phone numbers are stored in E.164
    form (``+254712345678``) whatever separators were typed; ``time_zone`` is the user's
    and is saved (and audited) by ``user_update_preferences``. Raises ``ValidationError``
    (nothing saved, the time zone included) for unknown fields or invalid values.
    """
    if actor is None or not actor.is_authenticated or actor.pk != user.pk:
        raise PermissionDenied(_("You can only change your own profile."))
    unknown = sorted(set(values) - set(APPLICANT_PROFILE_FIELDS))
    if unknown:
        raise ValidationError(_("Unknown profile fields: %(fields)s") % {"fields": unknown})
    values = dict(values)
    time_zone = values.pop("time_zone", None)
    specialties = (
        _specialties(values.pop("specialty_interests")) if "specialty_interests" in values else None
    )
    for name in _PHONE_FIELDS:
        if name in values:
            values[name] = normalize_phone(str(values[name] or ""))
    for name in _TEXT_FIELDS:
        if name in values:
            values[name] = str(values[name] or "").strip()

    profile = ApplicantProfile.objects.select_for_update().filter(user=user).first()
    created = profile is None
    if profile is None:
        profile = ApplicantProfile(user=user)
    changes: dict[str, list[Any]] = {}
    for name, value in values.items():
        old = getattr(profile, name)
        if old != value:
            changes[name] = [_audit_value(old), _audit_value(value)]
            setattr(profile, name, value)
    if (
        "home_institution" in changes
        and profile.home_institution is not None
        and not Institution.objects.members().filter(pk=profile.home_institution.pk).exists()
    ):
        raise ValidationError(
            {
                "home_institution": ValidationError(
                    _("This institution is not a member of the network; type its name instead."),
                    code="not_member",
                )
            }
        )
    if specialties is not None:
        old_codes = (
            [] if created else sorted(profile.specialty_interests.values_list("code", flat=True))
        )
        new_codes = sorted({specialty.code for specialty in specialties})
        if old_codes != new_codes:
            changes["specialty_interests"] = [old_codes, new_codes]
        else:
            specialties = None
    if created or changes:
        profile.full_clean()
        profile.save()
        if specialties is not None:
            profile.specialty_interests.set(specialties)
        audit_record(
            actor=actor,
            action="applicant_profile.created" if created else "applicant_profile.updated",
            target=profile,
            data=changes,
        )
    if time_zone is not None:
        user_update_preferences(user=user, actor=actor, time_zone=time_zone)
    return profile
