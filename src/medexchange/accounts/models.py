"""People and their roles: per institution, plus network staff."""

from __future__ import annotations

import importlib
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.catalog.choices import Cefr, TrainingLevel
from medexchange.common.languages import is_known_language
from medexchange.common.timezones import TIME_ZONE_CHOICES


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in with an e-mail address."""

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="UTC"
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_network_staff(self) -> bool:
        """Network staff run the network: platform superusers and staff of any network."""
        if not self.is_active:
            return False
        if self.is_superuser:
            return True
        cached = getattr(self, "_is_network_staff", None)
        if cached is None:
            cached = self.network_staff_roles.exists()
            self._is_network_staff = cached
        return cached

    def staffed_network_ids(self) -> QuerySet[Any] | None:
        """Ids of the networks this user runs; None means every network (superuser)."""
        if self.is_superuser:
            return None
        return self.network_staff_roles.values_list("network_id", flat=True)

    def coordinated_institution_ids(self) -> QuerySet[Any]:
        return self.institution_roles.filter(role=InstitutionRoleKind.COORDINATOR).values_list(
            "institution_id", flat=True
        )


class InstitutionRole(models.Model):
    """A person's role at one institution."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="institution_roles")
    institution = models.ForeignKey(
        "network.Institution", on_delete=models.CASCADE, related_name="roles"
    )
    role = models.CharField(_("role"), max_length=20, choices=InstitutionRoleKind.choices)
    granted_at = models.DateTimeField(_("granted"), auto_now_add=True)

    class Meta:
        verbose_name = _("institution role")
        verbose_name_plural = _("institution roles")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "institution", "role"], name="one_role_kind_per_institution"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.institution}"


class NetworkStaffRole(models.Model):
    """Staff of a network approve members, run match cycles and manage funds."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="network_staff_roles")
    network = models.ForeignKey("network.Network", on_delete=models.CASCADE, related_name="staff")
    granted_at = models.DateTimeField(_("granted"), auto_now_add=True)

    class Meta:
        verbose_name = _("network staff role")
        verbose_name_plural = _("network staff roles")
        constraints = [
            models.UniqueConstraint(fields=["user", "network"], name="one_staff_role_per_network")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.network}"


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


def _invitation_expiry() -> Any:
    return timezone.now() + timedelta(days=14)


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)

    def visible_to(self, user: Any) -> InvitationQuerySet:
        """Coordinators see their institution's invitations; network staff see all."""
        if not user.is_authenticated:
            return self.none()
        if user.is_network_staff:
            return self
        return self.filter(
            Q(institution_id__in=user.coordinated_institution_ids()) | Q(invited_by=user)
        )


class Invitation(models.Model):
    """An e-mailed offer of a role at an institution, accepted through a one-time link."""

    email = models.EmailField(_("e-mail address"))
    institution = models.ForeignKey(
        "network.Institution", on_delete=models.CASCADE, related_name="invitations"
    )
    role = models.CharField(_("role"), max_length=20, choices=InstitutionRoleKind.choices)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.get_role_display()} · {self.institution}"

    def get_absolute_url(self) -> str:
        return reverse("accounts:invitation", kwargs={"token": self.token})

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


# Applicant profile ----------------------------------------------------------------------
# What an applicant tells hosts: training, home institution and country, nationality,
# specialty interests, languages, contacts. Reads go through
# ``ApplicantProfile.objects.visible_to(user)`` (``owned_by(user)`` for one's own), writes
# through ``services.applicant_profile_update``.

#: E.164: a plus, a country code that does not start with 0, at most 15 digits in all.
PHONE_PATTERN = re.compile(r"\+[1-9]\d{6,14}")
#: Written between the digits of a phone number and dropped by ``normalize_phone``.
PHONE_SEPARATORS = re.compile(r"[\s().\-/]")


def normalize_phone(value: str) -> str:
    """``+254 (712) 345-678`` → ``+254712345678``; a leading ``00`` is read as ``+``.

    Anything that is not a phone number is returned stripped, for the validator to refuse.
    """
    value = value.strip()
    compact = PHONE_SEPARATORS.sub("", value)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    return compact if PHONE_PATTERN.fullmatch(compact) else value


def validate_phone(value: str) -> None:
    """An international number in E.164 form, as ``normalize_phone`` writes it."""
    if not PHONE_PATTERN.fullmatch(value):
        raise ValidationError(
            _(
                "Enter the number in international form, with a plus and the country code, "
                "e.g. +254 712 345 678."
            ),
            code="invalid_phone",
        )


def validate_profile_languages(value: Any) -> None:
    """A list of ``{"code": ISO 639-1, "level": CEFR}``, each language at most once."""
    if not isinstance(value, list):
        raise ValidationError(_("Languages must be a list."), code="invalid")
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, dict) or set(item) != {"code", "level"}:
            raise ValidationError(_('Each language is {"code": …, "level": …}.'), code="invalid")
        code, level = item["code"], item["level"]
        if not isinstance(code, str) or not is_known_language(code):
            raise ValidationError(
                _("%(code)s is not an ISO 639-1 language code."),
                code="unknown_language",
                params={"code": code},
            )
        if level not in Cefr.values:
            raise ValidationError(
                _("%(level)s is not a CEFR level (A1 to C2)."),
                code="bad_level",
                params={"level": level},
            )
        if code in seen:
            raise ValidationError(
                _("%(code)s is listed twice."), code="duplicate", params={"code": code}
            )
        seen.add(code)


#: Where the applications app says whose profiles a user may see (applicants to them).
APPLICANT_SELECTORS_MODULE = "medexchange.applications.selectors"


def _applicant_ids_visible_to() -> Callable[[Any], Any] | None:
    """``applications.selectors.applicant_ids_visible_to`` once it exists, else ``None``.

    Imported lazily: the applications app depends on accounts, not the other way round.
    Only a missing module or function counts as "not there yet"; an error *inside* the
    applications app is raised, not hidden.
    """
    try:
        selectors = importlib.import_module(APPLICANT_SELECTORS_MODULE)
    except ModuleNotFoundError as error:
        if error.name not in {"medexchange.applications", APPLICANT_SELECTORS_MODULE}:
            raise
        return None
    return getattr(selectors, "applicant_ids_visible_to", None)


class ApplicantProfileQuerySet(models.QuerySet["ApplicantProfile"]):
    def owned_by(self, user: Any) -> ApplicantProfileQuerySet:
        """The person's own profile (at most one row): use this for "my profile"."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def visible_to(self, user: Any) -> ApplicantProfileQuerySet:
        """Each person sees their own profile; host reviewers and home coordinators see
        those of the people who applied to them (``applications.selectors``).

        More than one row for reviewers and coordinators: "my profile" is ``owned_by``.
        """
        if not user.is_authenticated:
            return self.none()
        condition = Q(user=user)
        applicant_ids_visible_to = _applicant_ids_visible_to()
        if applicant_ids_visible_to is not None:
            condition |= Q(user_id__in=applicant_ids_visible_to(user))
        return self.filter(condition)

    def editable_by(self, user: Any) -> ApplicantProfileQuerySet:
        """Only the person themselves edits their profile."""
        return self.owned_by(user)


class ApplicantProfile(models.Model):
    """What an applicant tells hosts about their training; drives catalog eligibility."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="applicant_profile", verbose_name=_("user")
    )
    training_level = models.CharField(
        _("training level"),
        max_length=20,
        choices=TrainingLevel.choices,
        blank=True,
    )
    training_year = models.PositiveSmallIntegerField(
        _("year of training"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_(
            "Students: your year of study. Residents: your postgraduate year (PGY). "
            "Physicians: leave empty."
        ),
    )
    home_country = models.ForeignKey(
        "network.CountryProfile",
        verbose_name=_("home country"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The country where you train or work."),
    )
    languages = models.JSONField(
        _("languages"),
        default=list,
        blank=True,
        validators=[validate_profile_languages],
        help_text=_('Languages with your CEFR level, e.g. [{"code": "es", "level": "B2"}].'),
    )
    home_institution = models.ForeignKey(
        "network.Institution",
        verbose_name=_("home institution"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The medical school or hospital where you train or work."),
    )
    home_institution_name = models.CharField(
        _("home institution (not in the list)"),
        max_length=200,
        blank=True,
        help_text=_("If your school or hospital is not a member of the network, type its name."),
    )
    specialty_interests = models.ManyToManyField(
        "catalog.Specialty",
        verbose_name=_("specialty interests"),
        blank=True,
        related_name="+",
    )
    nationality = models.ForeignKey(
        "network.CountryProfile",
        verbose_name=_("nationality"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The country of the passport you would travel with."),
    )
    phone = models.CharField(
        _("phone"),
        max_length=16,
        blank=True,
        validators=[validate_phone],
        help_text=_("In international form, e.g. +254 712 345 678."),
    )
    emergency_contact_name = models.CharField(
        _("emergency contact name"), max_length=200, blank=True
    )
    emergency_contact_phone = models.CharField(
        _("emergency contact phone"),
        max_length=16,
        blank=True,
        validators=[validate_phone],
        help_text=_("In international form, e.g. +39 06 1234 5678."),
    )
    emergency_contact_relationship = models.CharField(
        _("relationship to you"),
        max_length=100,
        blank=True,
        help_text=_("e.g. mother, partner, friend."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ApplicantProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("applicant profile")
        verbose_name_plural = _("applicant profiles")

    def __str__(self) -> str:
        return str(self.user)

    def get_absolute_url(self) -> str:
        return reverse("accounts:profile")

    def language_levels(self) -> dict[str, str]:
        """ISO 639-1 code → CEFR level."""
        return {
            item["code"]: item["level"]
            for item in self.languages or []
            if isinstance(item, dict) and "code" in item and "level" in item
        }

    def clean(self) -> None:
        if self.home_institution_id is not None and self.home_institution_name.strip():
            raise ValidationError(
                {
                    "home_institution_name": _(
                        "Choose your institution from the list or type its name, not both."
                    )
                }
            )
        if (
            self.phone
            and self.emergency_contact_phone
            and self.phone == self.emergency_contact_phone
        ):
            raise ValidationError(
                {
                    "emergency_contact_phone": _(
                        "Your emergency contact needs a number other than your own."
                    )
                }
            )

    def is_complete_for_applying(self) -> list[str]:
        """The translated labels of what is still missing before applying; ``[]`` = complete.

        Note the inverted truth: a non-empty list means *incomplete*. Works on an unsaved
        profile too (``ApplicantProfile(user=user)`` for someone who has none yet), so the
        apply page can list everything for a person who never filled it in.
        """
        missing: list[str] = []
        if not self.training_level:
            missing.append(gettext("Training level"))
        elif (
            self.training_level in {TrainingLevel.STUDENT, TrainingLevel.RESIDENT}
            and self.training_year is None
        ):
            missing.append(gettext("Year of training"))
        if self.home_country_id is None:
            missing.append(gettext("Home country"))
        if self.nationality_id is None:
            missing.append(gettext("Nationality"))
        if not self.phone:
            missing.append(gettext("Contact phone"))
        if not (self.emergency_contact_name.strip() and self.emergency_contact_phone):
            missing.append(gettext("Emergency contact (name and phone)"))
        return missing
