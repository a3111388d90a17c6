"""Applications: an applicant's request for a session, its review, and the seat it may take."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.applications.choices import (
    ACTIVE_STATES,
    ApplicationState,
    ChecklistItemKind,
    LetterKind,
)

HOST_ROLES = (InstitutionRoleKind.COORDINATOR, InstitutionRoleKind.REVIEWER)


def reviewed_institution_ids(user: Any) -> Any:
    """Institutions where ``user`` reviews applications: coordinators and reviewers."""
    return user.institution_roles.filter(role__in=HOST_ROLES).values_list(
        "institution_id", flat=True
    )


class ApplicationQuerySet(models.QuerySet["Application"]):
    def visible_to(self, user: Any) -> ApplicationQuerySet:
        """The applicant's own; the host's files once they reached it; the home institution's.

        A host sees an application only once it reached the host (on submission, or on
        endorsement when the home institution must endorse first); the home institution's
        coordinators see their applicants' submitted applications. Network staff see counts
        (``selectors.state_counts``), not files; platform superusers see everything.
        """
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(
            Q(applicant=user)
            | Q(
                reached_host_at__isnull=False,
                session__opportunity__host_id__in=reviewed_institution_ids(user),
            )
            | Q(
                submitted_at__isnull=False,
                home_institution_id__in=user.coordinated_institution_ids(),
            )
        )

    def reviewable_by(self, user: Any) -> ApplicationQuerySet:
        """Files in ``user``'s host queues: coordinators and reviewers of the host.

        Never the user's own application: its applicant may not read the private review
        work or a confidential referee letter, whatever role they also hold.
        """
        if not user.is_authenticated:
            return self.none()
        mine = self.filter(reached_host_at__isnull=False).exclude(applicant=user)
        if user.is_superuser:
            return mine
        return mine.filter(session__opportunity__host_id__in=reviewed_institution_ids(user))

    def endorsable_by(self, user: Any) -> ApplicationQuerySet:
        """Submitted applications of the home institutions ``user`` coordinates (never the
        user's own: nobody endorses themselves)."""
        if not user.is_authenticated:
            return self.none()
        submitted = self.filter(submitted_at__isnull=False).exclude(applicant=user)
        if user.is_superuser:
            return submitted
        return submitted.filter(home_institution_id__in=user.coordinated_institution_ids())

    def owned_by(self, user: Any) -> ApplicationQuerySet:
        return self.filter(applicant=user) if user.is_authenticated else self.none()

    def active(self) -> ApplicationQuerySet:
        return self.filter(state__in=ACTIVE_STATES)


class Application(models.Model):
    """One applicant's request for one session; its ``state`` moves only through services."""

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        null=True,  # kept, anonymised, when the applicant deletes their account
        on_delete=models.SET_NULL,
        related_name="applications",
    )
    session = models.ForeignKey(
        "catalog.Session",
        verbose_name=_("session"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    state = models.CharField(
        _("status"),
        max_length=20,
        choices=ApplicationState.choices,
        default=ApplicationState.DRAFT,
        db_index=True,
    )
    statement = models.TextField(
        _("personal statement"),
        blank=True,
        help_text=_("Why this opportunity, and what you will take home. Up to 5,000 characters."),
    )
    # Facts fixed at submission: who must endorse, and anonymised statistics that outlive
    # the applicant's account.
    endorsement_required = models.BooleanField(_("endorsement required"), default=False)
    home_institution = models.ForeignKey(
        "network.Institution",
        verbose_name=_("home institution"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbound_applications",
    )
    home_country = models.ForeignKey(
        "network.CountryProfile",
        verbose_name=_("home country"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    endorsed_at = models.DateTimeField(_("endorsed"), null=True, blank=True)
    endorsement_note = models.TextField(_("note from the home institution"), blank=True)
    reached_host_at = models.DateTimeField(_("reached the host"), null=True, blank=True)
    decided_at = models.DateTimeField(_("first decision"), null=True, blank=True)
    decision_reason = models.TextField(
        _("reason given to the applicant"),
        blank=True,
        help_text=_("The applicant reads this."),
    )
    waitlisted_at = models.DateTimeField(_("waitlisted"), null=True, blank=True)
    offered_at = models.DateTimeField(_("offered"), null=True, blank=True)
    offer_expires_at = models.DateTimeField(_("answer the offer by"), null=True, blank=True)
    responded_at = models.DateTimeField(_("answered the offer"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    documents_purged_at = models.DateTimeField(_("documents deleted"), null=True, blank=True)
    # The exchange agreement the application counts against (agreements.services decides).
    # PROTECT: an agreement with applications under it is history the ledger needs;
    # agreements end by expiry or termination, never by deletion.
    agreement = models.ForeignKey(
        "agreements.Agreement",
        verbose_name=_("exchange agreement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["session", "state"]),
            models.Index(fields=["applicant", "state"]),
            models.Index(fields=["home_institution", "state"]),
            models.Index(fields=["state", "offer_expires_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "session"],
                condition=Q(state__in=sorted(ACTIVE_STATES)),
                name="one_active_application_per_applicant_and_session",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} · {self.applicant or _('former applicant')} · {self.session}"

    def get_absolute_url(self) -> str:
        return reverse("applications:detail", kwargs={"pk": self.pk})

    @property
    def is_final(self) -> bool:
        return self.state not in ACTIVE_STATES


class Placement(models.Model):
    """A seat of a session held by an accepted application; released on withdrawal.

    Seats taken = placements not released. Only ``services.application_accept`` creates
    one, under a lock on the session row, so a session never holds more than its capacity.
    """

    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, related_name="placement"
    )
    session = models.ForeignKey(
        "catalog.Session", on_delete=models.PROTECT, related_name="placements"
    )
    created_at = models.DateTimeField(_("seat taken"), auto_now_add=True)
    released_at = models.DateTimeField(_("seat released"), null=True, blank=True)

    class Meta:
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        indexes = [models.Index(fields=["session", "released_at"])]

    def __str__(self) -> str:
        return f"{self.application}"


class ApplicationDocument(models.Model):
    """A version of a vault document attached to an application (frozen at attachment)."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="attachments"
    )
    version = models.ForeignKey(
        "documents.DocumentVersion", on_delete=models.PROTECT, related_name="attachments"
    )
    attached_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attached document")
        verbose_name_plural = _("attached documents")
        constraints = [
            models.UniqueConstraint(fields=["application", "version"], name="attach_a_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.application} · {self.version}"


class ReviewCriterion(models.Model):
    """One of the host's scoring criteria for an opportunity (e.g. motivation, fit)."""

    opportunity = models.ForeignKey(
        "catalog.Opportunity", on_delete=models.CASCADE, related_name="review_criteria"
    )
    name = models.CharField(_("criterion"), max_length=120)
    description = models.CharField(_("what to look for"), max_length=300, blank=True)
    weight = models.DecimalField(
        _("weight"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("10"))],
    )
    max_score = models.PositiveSmallIntegerField(
        _("highest score"), default=5, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("review criterion")
        verbose_name_plural = _("review criteria")
        ordering = ["opportunity", "position", "pk"]

    def __str__(self) -> str:
        return self.name


class ReviewScore(models.Model):
    """One reviewer's score of one application against one criterion."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="scores")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    criterion = models.ForeignKey(ReviewCriterion, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("review score")
        verbose_name_plural = _("review scores")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "reviewer", "criterion"], name="one_score_per_criterion"
            )
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.score}"


class ReviewComment(models.Model):
    """A private note among the host's reviewers; the applicant never sees it."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("comment"), max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("review comment")
        verbose_name_plural = _("review comments")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.body[:50]


class ChecklistItem(models.Model):
    """One pre-departure step; done when both the applicant and the host have ticked it."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="checklist")
    kind = models.CharField(_("step"), max_length=20, choices=ChecklistItemKind.choices)
    note = models.TextField(_("details"), blank=True, max_length=2000)
    applicant_done_at = models.DateTimeField(_("ticked by the participant"), null=True)
    host_done_at = models.DateTimeField(_("ticked by the host"), null=True)

    class Meta:
        verbose_name = _("pre-departure step")
        verbose_name_plural = _("pre-departure checklist")
        ordering = ["application", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["application", "kind"], name="one_step_of_each_kind")
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def is_done(self) -> bool:
        return self.applicant_done_at is not None and self.host_done_at is not None


def _verification_code() -> str:
    # 16 characters from an unambiguous alphabet: easy to type from a printed letter.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


class LetterTemplate(models.Model):
    """A host's wording for its acceptance or visa-support letters."""

    institution = models.ForeignKey(
        "network.Institution", on_delete=models.CASCADE, related_name="letter_templates"
    )
    kind = models.CharField(_("letter"), max_length=20, choices=LetterKind.choices)
    body = models.TextField(
        _("text"),
        max_length=10000,
        help_text=_(
            "Plain text. Placeholders: {applicant}, {opportunity}, {start}, {end}, {host}, "
            "{city}, {country}."
        ),
    )
    signatory_name = models.CharField(_("signed by"), max_length=200)
    signatory_title = models.CharField(_("title of the signatory"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("letter template")
        verbose_name_plural = _("letter templates")
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "kind"], name="one_letter_template_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.institution} · {self.get_kind_display()}"


class Letter(models.Model):
    """An issued letter; anyone can check its code on the public verification page."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="letters")
    kind = models.CharField(_("letter"), max_length=20, choices=LetterKind.choices)
    verification_code = models.CharField(
        _("verification code"), max_length=16, unique=True, default=_verification_code
    )
    # What the letter certifies, copied at issue so verification outlives later edits.
    holder_name = models.CharField(max_length=200)
    host_name = models.CharField(max_length=200)
    opportunity_title = models.CharField(max_length=200)
    start_date = models.DateField()
    end_date = models.DateField()
    body = models.TextField()
    signatory_name = models.CharField(max_length=200)
    signatory_title = models.CharField(max_length=200, blank=True)
    issued_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("letter")
        verbose_name_plural = _("letters")
        ordering = ["-issued_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.verification_code}"

    def get_verification_url(self) -> str:
        return reverse("applications:verify-letter", kwargs={"code": self.verification_code})
