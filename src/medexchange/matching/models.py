"""Match cycles: rounds of stable matching over sessions, their rankings and their runs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from medexchange.applications.choices import AWAITING_DECISION
from medexchange.applications.models import reviewed_institution_ids
from medexchange.matching.choices import (
    CycleStatus,
    RankSide,
    RunKind,
    RunStage,
    RunStatus,
)


class MatchCycleQuerySet(models.QuerySet["MatchCycle"]):
    def editable_by(self, user: Any) -> MatchCycleQuerySet:
        """Cycles ``user`` runs: staff of the cycle's network, or the organising host's
        coordinators (a host's own cycle)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        condition = Q(host_id__in=user.coordinated_institution_ids())
        staffed = user.staffed_network_ids()
        if staffed is not None:
            condition |= Q(network_id__in=staffed)
        return self.filter(condition)

    def visible_to(self, user: Any) -> MatchCycleQuerySet:
        """Those it runs; for hosts the cycles over their sessions; for applicants those
        holding one of their submitted applications. Drafts only for those who run them."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        from medexchange.applications.models import Application

        own_sessions = Application.objects.filter(
            applicant=user, submitted_at__isnull=False
        ).values("session_id")
        taking_part = (
            self.exclude(status=CycleStatus.DRAFT)
            .filter(
                Q(sessions__opportunity__host_id__in=reviewed_institution_ids(user))
                | Q(sessions__in=own_sessions)
            )
            .values("pk")
        )
        return self.filter(Q(pk__in=self.editable_by(user).values("pk")) | Q(pk__in=taking_part))


class MatchCycle(models.Model):
    """A round in which the places of some sessions are allocated by stable matching.

    Organised by a network's staff (over sessions of the network's members) or by one
    host (over its own sessions): exactly one of ``network`` and ``host`` is set.
    """

    name = models.CharField(_("name"), max_length=200)
    network = models.ForeignKey(
        "network.Network",
        verbose_name=_("network"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="match_cycles",
    )
    host = models.ForeignKey(
        "network.Institution",
        verbose_name=_("host"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="match_cycles",
    )
    sessions = models.ManyToManyField(
        "catalog.Session", verbose_name=_("sessions"), related_name="match_cycles"
    )
    binding = models.BooleanField(
        _("binding"),
        default=True,
        help_text=_(
            "Binding: a match is a place, taken at release. Non-binding: a match is an "
            "offer the applicant may accept or decline."
        ),
    )
    reserved_places = models.PositiveSmallIntegerField(
        _("places reserved per session"),
        default=0,
        validators=[MaxValueValidator(100)],
        help_text=_(
            "Held first for applicants from countries where Emergency Medicine is not yet "
            "established; unused reserved places go to everyone."
        ),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=CycleStatus.choices,
        default=CycleStatus.DRAFT,
        db_index=True,
    )
    ranking_opens_at = models.DateTimeField(_("ranking opens"))
    ranking_closes_at = models.DateTimeField(_("ranking closes"))
    results_planned_at = models.DateTimeField(_("results planned for"))
    released_at = models.DateTimeField(_("results released"), null=True, blank=True)
    released_run = models.OneToOneField(
        "MatchRun",
        verbose_name=_("released run"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MatchCycleQuerySet.as_manager()

    class Meta:
        verbose_name = _("match cycle")
        verbose_name_plural = _("match cycles")
        ordering = ["-ranking_opens_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(network__isnull=True, host__isnull=False)
                | Q(network__isnull=False, host__isnull=True),
                name="match_cycle_has_one_organiser",
            ),
            models.CheckConstraint(
                condition=Q(ranking_closes_at__gt=models.F("ranking_opens_at")),
                name="match_cycle_ranking_closes_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("matching:cycle", kwargs={"pk": self.pk})

    def applications(self) -> Any:
        """The applications taking part: to its sessions, at the host, awaiting a decision."""
        from medexchange.applications.models import Application

        return Application.objects.filter(
            session__in=self.sessions.all(),
            reached_host_at__isnull=False,
            state__in=AWAITING_DECISION,
            applicant__isnull=False,
        )


class Ranking(models.Model):
    """One application's place in a ranking: the applicant's list of their applications in
    the cycle, or the host's list of a session's applicants.

    ``position`` 1 is the most preferred; a host's row without a position is an applicant
    left unranked (unacceptable to the session). Rows are rewritten 1..n by the services.
    """

    cycle = models.ForeignKey(MatchCycle, on_delete=models.CASCADE, related_name="rankings")
    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="match_rankings"
    )
    side = models.CharField(_("ranked by"), max_length=10, choices=RankSide.choices)
    position = models.PositiveIntegerField(_("position"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ranking entry")
        verbose_name_plural = _("ranking entries")
        ordering = ["cycle", "side", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "application", "side"], name="one_rank_per_side_and_application"
            )
        ]

    def __str__(self) -> str:
        return f"{self.cycle} · {self.get_side_display()} · {self.application_id}: {self.position}"


class MatchRunQuerySet(models.QuerySet["MatchRun"]):
    def visible_to(self, user: Any) -> MatchRunQuerySet:
        """Runs are the organisers' work: only those who run the cycle see them."""
        return self.filter(cycle__in=MatchCycle.objects.editable_by(user))


class MatchRun(models.Model):
    """One solve of a cycle: its exact input and output, who started it, its figures.

    ``instance_json`` is the canonical JSON of the shared format (sorted keys, no spaces)
    and ``instance_hash`` its SHA-256; ``result_json`` is the engine's result without its
    timing, so a replay of the instance must give the same bytes.
    """

    cycle = models.ForeignKey(MatchCycle, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(_("kind"), max_length=10, choices=RunKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(
        _("progress"), default=0, validators=[MaxValueValidator(100)]
    )
    stage = models.CharField(
        _("stage"), max_length=12, choices=RunStage.choices, default=RunStage.QUEUED
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("queued"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    cancel_requested_at = models.DateTimeField(_("cancel requested"), null=True, blank=True)
    engine_version = models.CharField(_("engine version"), max_length=20, blank=True)
    instance_json = models.TextField(_("instance"), blank=True)
    instance_hash = models.CharField(_("instance SHA-256"), max_length=64, blank=True)
    result_json = models.TextField(_("result"), blank=True)
    #: Engine applicant id → {program id → application pk}: reads the result back.
    key = models.JSONField(default=dict, blank=True)
    statistics = models.JSONField(_("statistics"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    objects = MatchRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("match run")
        verbose_name_plural = _("match runs")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.cycle} · {self.get_kind_display()} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("matching:run", kwargs={"pk": self.pk})

    @property
    def is_pending(self) -> bool:
        return self.status in {RunStatus.QUEUED, RunStatus.RUNNING}
