"""Rotation plans: the week-by-week (or day-by-day) assignment of a session's participants
to its sites, its settings, its cells and its solves.

A plan belongs to one session of an exchange program. Its sites are the opportunity's
sites, its participants the session's placements holding a seat; the engine
(``medexchange.engines.scheduling``) sees them as ``s<PlanSite pk>`` and
``p<PlanParticipant pk>``, periods as ``W1…``/``D1…``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.applications.models import reviewed_institution_ids
from medexchange.scheduling.choices import (
    UNIT_DAYS,
    AbsenceKind,
    AbsenceStatus,
    CellSource,
    PlanStatus,
    PlanUnit,
    SolveStage,
    SolveStatus,
)


def supervised_institution_ids(user: Any) -> Any:
    """Institutions where ``user`` supervises participants on site."""
    return user.institution_roles.filter(role=InstitutionRoleKind.SUPERVISOR).values_list(
        "institution_id", flat=True
    )


class RotationPlanQuerySet(models.QuerySet["RotationPlan"]):
    def editable_by(self, user: Any) -> RotationPlanQuerySet:
        """Plans ``user`` sets up and solves: the coordinators of the session's host."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(session__opportunity__host_id__in=user.coordinated_institution_ids())

    def managed_by(self, user: Any) -> RotationPlanQuerySet:
        """Plans ``user`` reads in full: the host's coordinators and reviewers."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(session__opportunity__host_id__in=reviewed_institution_ids(user))

    def supervised_by(self, user: Any) -> RotationPlanQuerySet:
        """Published plans with a site of an institution where ``user`` is a site supervisor."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.filter(published_at__isnull=False)
        sites = PlanSite.objects.filter(
            site__institution_id__in=supervised_institution_ids(user)
        ).values("plan_id")
        return self.filter(published_at__isnull=False, pk__in=sites)

    def visible_to(self, user: Any) -> RotationPlanQuerySet:
        """The host's coordinators and reviewers; a participant once the plan is published
        (they then see only their own row, see ``selectors.visible_participants``); a site
        supervisor once it is published (their sites' rosters only)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        own = PlanParticipant.objects.filter(placement__application__applicant=user).values(
            "plan_id"
        )
        return self.filter(
            Q(pk__in=self.managed_by(user).values("pk"))
            | Q(published_at__isnull=False, pk__in=own)
            | Q(pk__in=self.supervised_by(user).values("pk"))
        )


class RotationPlan(models.Model):
    """The rotation plan of one exchange-program session: horizon, rules, status."""

    session = models.OneToOneField(
        "catalog.Session",
        verbose_name=_("session"),
        on_delete=models.CASCADE,
        related_name="rotation_plan",
    )
    unit = models.CharField(
        _("periods in"), max_length=4, choices=PlanUnit.choices, default=PlanUnit.WEEK
    )
    start_date = models.DateField(_("first period starts"))
    period_count = models.PositiveSmallIntegerField(
        _("periods"), validators=[MinValueValidator(1), MaxValueValidator(400)]
    )
    min_sites = models.PositiveSmallIntegerField(
        _("sites each participant visits at least"),
        default=1,
        validators=[MinValueValidator(1)],
    )
    min_stay = models.PositiveSmallIntegerField(
        _("shortest stay at a site (periods)"), default=1, validators=[MinValueValidator(1)]
    )
    max_stay = models.PositiveSmallIntegerField(
        _("longest stay at a site (periods)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Empty: no maximum."),
    )
    balance = models.BooleanField(
        _("balance the sites"),
        default=True,
        help_text=_("Spread participants over the sites in proportion to their places."),
    )
    #: [[participant pk, participant pk], …]: pairs always at the same site.
    together = models.JSONField(_("always together"), default=list, blank=True)
    #: [[participant pk, participant pk], …]: pairs never at the same site.
    apart = models.JSONField(_("never together"), default=list, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=PlanStatus.choices,
        default=PlanStatus.DRAFT,
        db_index=True,
    )
    #: When the plan was last published; participants, supervisors and the calendar
    #: feeds see the published assignment, never the working cells.
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    #: The cells as last published: {"<participant pk>": {"<period>": site pk}}.
    published_assignment = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RotationPlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("rotation plan")
        verbose_name_plural = _("rotation plans")
        ordering = ["start_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_stay__isnull=True) | Q(max_stay__gte=models.F("min_stay")),
                name="rotation_plan_max_stay_not_below_min_stay",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Rotation plan · %(session)s") % {"session": self.session})

    def get_absolute_url(self) -> str:
        return reverse("scheduling:plan", kwargs={"pk": self.pk})

    @property
    def step_days(self) -> int:
        return UNIT_DAYS[PlanUnit(self.unit)]

    @property
    def prefix(self) -> str:
        return "W" if self.unit == PlanUnit.WEEK else "D"

    def period_id(self, index: int) -> str:
        return f"{self.prefix}{index + 1}"

    def period_start(self, index: int) -> dt.date:
        return self.start_date + dt.timedelta(days=index * self.step_days)

    def period_end(self, index: int) -> dt.date:
        return self.period_start(index) + dt.timedelta(days=self.step_days - 1)

    @property
    def end_date(self) -> dt.date:
        return self.period_end(self.period_count - 1)

    def period_of(self, day: dt.date) -> int:
        """The index of the period holding ``day`` (may fall outside 0..count-1)."""
        return (day - self.start_date).days // self.step_days


class PlanSite(models.Model):
    """A site of the plan: places per period, minimum staffing, closures, languages."""

    plan = models.ForeignKey(RotationPlan, on_delete=models.CASCADE, related_name="sites")
    site = models.ForeignKey(
        "network.Site", verbose_name=_("site"), on_delete=models.PROTECT, related_name="+"
    )
    short_name = models.CharField(
        _("short name"), max_length=24, help_text=_("Shown in each cell of the plan.")
    )
    capacity = models.PositiveSmallIntegerField(_("places per period"), default=2)
    #: One number per period; empty: ``capacity`` in every period.
    capacity_per_period = models.JSONField(default=list, blank=True)
    min_staff = models.PositiveSmallIntegerField(_("minimum participants when open"), default=0)
    #: Period indices (0-based) when the site takes nobody.
    closed = models.JSONField(_("closed periods"), default=list, blank=True)
    languages = models.JSONField(
        _("languages spoken"), default=list, blank=True, help_text=_("ISO 639-1 codes.")
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("plan site")
        verbose_name_plural = _("plan sites")
        ordering = ["plan", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "site"], name="one_plan_site_per_site"),
        ]

    def __str__(self) -> str:
        return self.short_name or self.site.name

    @property
    def engine_id(self) -> str:
        return f"s{self.pk}"

    def capacities(self, count: int) -> list[int]:
        if len(self.capacity_per_period) == count:
            return [int(value) for value in self.capacity_per_period]
        return [self.capacity] * count


class PlanParticipant(models.Model):
    """A participant of the plan: one placement of the session holding a seat."""

    plan = models.ForeignKey(RotationPlan, on_delete=models.CASCADE, related_name="participants")
    placement = models.ForeignKey(
        "applications.Placement", on_delete=models.CASCADE, related_name="plan_rows"
    )
    arrival = models.DateField(_("arrives"))
    departure = models.DateField(_("leaves"))
    languages = models.JSONField(_("languages"), default=list, blank=True)
    #: PlanSite pks, most wanted first.
    preferences = models.JSONField(_("preferred sites"), default=list, blank=True)
    must_visit = models.JSONField(_("must visit"), default=list, blank=True)
    must_not_visit = models.JSONField(_("must not visit"), default=list, blank=True)
    #: Not coming after all (an accepted no-show report): left out of every solve.
    excluded = models.BooleanField(_("not coming"), default=False)

    class Meta:
        verbose_name = _("plan participant")
        verbose_name_plural = _("plan participants")
        ordering = ["plan", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "placement"], name="one_plan_row_per_placement"
            ),
            models.CheckConstraint(
                condition=Q(departure__gte=models.F("arrival")),
                name="plan_participant_leaves_after_arriving",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def engine_id(self) -> str:
        return f"p{self.pk}"

    @property
    def name(self) -> str:
        applicant = self.placement.application.applicant
        return str(applicant) if applicant is not None else str(_("former applicant"))


class PlanCell(models.Model):
    """Where one participant is in one period; pinned cells are kept by every solve."""

    plan = models.ForeignKey(RotationPlan, on_delete=models.CASCADE, related_name="cells")
    participant = models.ForeignKey(PlanParticipant, on_delete=models.CASCADE, related_name="cells")
    period = models.PositiveSmallIntegerField(_("period"))
    site = models.ForeignKey(PlanSite, on_delete=models.CASCADE, related_name="cells")
    pinned = models.BooleanField(_("pinned"), default=False)
    source = models.CharField(
        _("set by"), max_length=10, choices=CellSource.choices, default=CellSource.SOLVER
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("plan cell")
        verbose_name_plural = _("plan cells")
        ordering = ["participant", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "period"], name="one_plan_cell_per_participant_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} · {self.period} · {self.site_id}"


class PlanSolveQuerySet(models.QuerySet["PlanSolve"]):
    def visible_to(self, user: Any) -> PlanSolveQuerySet:
        """Solves are the host's work: its coordinators and reviewers see them."""
        return self.filter(plan__in=RotationPlan.objects.managed_by(user))


class PlanSolve(models.Model):
    """One solve of a plan: its exact input and output, who started it, its figures."""

    plan = models.ForeignKey(RotationPlan, on_delete=models.CASCADE, related_name="solves")
    status = models.CharField(
        _("status"), max_length=10, choices=SolveStatus.choices, default=SolveStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(
        _("progress"), default=0, validators=[MaxValueValidator(100)]
    )
    stage = models.CharField(
        _("stage"), max_length=10, choices=SolveStage.choices, default=SolveStage.QUEUED
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("queued"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    cancel_requested_at = models.DateTimeField(_("cancel requested"), null=True, blank=True)
    engine_version = models.CharField(_("engine version"), max_length=40, blank=True)
    input_json = models.JSONField(_("input"), null=True, blank=True)
    result_json = models.JSONField(_("result"), null=True, blank=True)
    #: The engine's status: optimal, feasible, infeasible or unknown.
    outcome = models.CharField(_("outcome"), max_length=12, blank=True)
    objective = models.BigIntegerField(_("objective"), null=True, blank=True)
    bound = models.BigIntegerField(_("bound"), null=True, blank=True)
    gap = models.FloatField(_("gap"), null=True, blank=True)
    seconds = models.FloatField(_("solver seconds"), null=True, blank=True)
    conflicts = models.JSONField(_("conflicts"), default=list, blank=True)
    #: The greedy baseline's score and broken rules, for comparison.
    baseline = models.JSONField(default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    #: A proposal (for an absence report) is solved but not applied to the cells.
    is_proposal = models.BooleanField(_("proposal only"), default=False)

    objects = PlanSolveQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan solve")
        verbose_name_plural = _("plan solves")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.plan} · #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("scheduling:solve", kwargs={"pk": self.pk})

    @property
    def is_pending(self) -> bool:
        return self.status in {SolveStatus.QUEUED, SolveStatus.RUNNING}


class PlanPublicationQuerySet(models.QuerySet["PlanPublication"]):
    def visible_to(self, user: Any) -> PlanPublicationQuerySet:
        return self.filter(plan__in=RotationPlan.objects.managed_by(user))


class PlanPublication(models.Model):
    """One publication of a plan: what was published and what changed since the last."""

    plan = models.ForeignKey(RotationPlan, on_delete=models.CASCADE, related_name="publications")
    version = models.PositiveIntegerField(_("version"))
    published_at = models.DateTimeField(_("published"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignment = models.JSONField(default=dict)
    #: [{"participant": pk, "period": t, "from": site pk | None, "to": site pk | None}, …]
    changes = models.JSONField(default=list, blank=True)
    notified = models.PositiveIntegerField(_("people notified"), default=0)

    objects = PlanPublicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan publication")
        verbose_name_plural = _("plan publications")
        ordering = ["plan", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "version"], name="one_plan_publication_version")
        ]

    def __str__(self) -> str:
        return f"{self.plan} · v{self.version}"


def _feed_token() -> str:
    import secrets

    return secrets.token_urlsafe(24)


class CalendarFeedQuerySet(models.QuerySet["CalendarFeed"]):
    def active(self) -> CalendarFeedQuerySet:
        return self.filter(revoked_at__isnull=True)


class CalendarFeed(models.Model):
    """A private iCalendar feed of one participant's or one site's published rotation.

    The secret token in its URL is the only key (calendar apps cannot sign in);
    revoking it stops the URL at once and a new one can be issued."""

    plan = models.ForeignKey(RotationPlan, on_delete=models.CASCADE, related_name="feeds")
    participant = models.ForeignKey(
        PlanParticipant, null=True, blank=True, on_delete=models.CASCADE, related_name="feeds"
    )
    site = models.ForeignKey(
        PlanSite, null=True, blank=True, on_delete=models.CASCADE, related_name="feeds"
    )
    token = models.CharField(max_length=64, unique=True, default=_feed_token)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_read_at = models.DateTimeField(_("last read"), null=True, blank=True)

    objects = CalendarFeedQuerySet.as_manager()

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        ordering = ["plan", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(participant__isnull=True, site__isnull=False)
                | Q(participant__isnull=False, site__isnull=True),
                name="calendar_feed_of_participant_or_site",
            ),
            models.UniqueConstraint(
                fields=["participant"],
                condition=Q(revoked_at__isnull=True, participant__isnull=False),
                name="one_active_feed_per_participant",
            ),
            models.UniqueConstraint(
                fields=["site"],
                condition=Q(revoked_at__isnull=True, site__isnull=False),
                name="one_active_feed_per_site",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} · {self.participant or self.site}"

    def get_absolute_url(self) -> str:
        return reverse("scheduling:feed", kwargs={"token": self.token})


class AbsenceReportQuerySet(models.QuerySet["AbsenceReport"]):
    def visible_to(self, user: Any) -> AbsenceReportQuerySet:
        """The host's people see every report of their plans; a supervisor their own."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(plan__in=RotationPlan.objects.managed_by(user)) | Q(reported_by=user))


class AbsenceReport(models.Model):
    """A supervisor's (or coordinator's) report that a participant arrives late, leaves
    early or does not come; it proposes a repaired plan the coordinator accepts or not."""

    plan = models.ForeignKey(RotationPlan, on_delete=models.CASCADE, related_name="absences")
    participant = models.ForeignKey(
        PlanParticipant, on_delete=models.CASCADE, related_name="absences"
    )
    site = models.ForeignKey(
        PlanSite, null=True, blank=True, on_delete=models.SET_NULL, related_name="absences"
    )
    kind = models.CharField(_("what happened"), max_length=20, choices=AbsenceKind.choices)
    #: late arrival: the first day there; early departure: the last day there.
    day = models.DateField(_("date"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=AbsenceStatus.choices,
        default=AbsenceStatus.PROPOSING,
        db_index=True,
    )
    proposal = models.OneToOneField(
        PlanSolve, null=True, blank=True, on_delete=models.SET_NULL, related_name="absence"
    )
    #: The working assignment the proposal repaired (publication format); accepting is
    #: refused once the cells differ from it.
    base = models.JSONField(default=dict, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_at = models.DateTimeField(_("reported"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    objects = AbsenceReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("absence report")
        verbose_name_plural = _("absence reports")
        ordering = ["-reported_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.participant} · {self.get_kind_display()}"

    def get_absolute_url(self) -> str:
        return reverse("scheduling:absence", kwargs={"pk": self.pk})
