"""The rotation plan's and the solve's states, and the other choice lists of scheduling."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PlanUnit(models.TextChoices):
    WEEK = "week", _("Weeks")
    DAY = "day", _("Days")


#: Days per period of each unit.
UNIT_DAYS = {PlanUnit.WEEK: 7, PlanUnit.DAY: 1}


class PlanStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("rotation plan status", "Draft")
    SOLVING = "solving", pgettext_lazy("rotation plan status", "Solving")
    SOLVED = "solved", pgettext_lazy("rotation plan status", "Solved")
    FAILED = "failed", pgettext_lazy("rotation plan status", "No plan found")


class SolveStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("rotation solve status", "Queued")
    RUNNING = "running", pgettext_lazy("rotation solve status", "Running")
    DONE = "done", pgettext_lazy("rotation solve status", "Done")
    FAILED = "failed", pgettext_lazy("rotation solve status", "Failed")
    CANCELLED = "cancelled", pgettext_lazy("rotation solve status", "Cancelled")


#: A solve in one of these may still change; its page polls while it is.
SOLVE_PENDING = frozenset({SolveStatus.QUEUED, SolveStatus.RUNNING})


class SolveStage(models.TextChoices):
    """What a running solve is doing, shown under its progress bar."""

    QUEUED = "queued", _("Waiting for a worker")
    BUILDING = "building", _("Building the plan from the sites and participants")
    SOLVING = "solving", _("Solving")
    SAVING = "saving", _("Saving the assignment")
    FINISHED = "finished", _("Finished")


class CellSource(models.TextChoices):
    SOLVER = "solver", _("Solver")
    HAND = "hand", _("Set by hand")


class PairKind(models.TextChoices):
    TOGETHER = "together", _("Always at the same site")
    APART = "apart", _("Never at the same site")


class AbsenceKind(models.TextChoices):
    LATE_ARRIVAL = "late_arrival", _("Arrives later than planned")
    EARLY_DEPARTURE = "early_departure", _("Leaves earlier than planned")
    NO_SHOW = "no_show", _("Is not coming")


class AbsenceStatus(models.TextChoices):
    PROPOSING = "proposing", pgettext_lazy("absence report status", "Repairing the plan")
    PROPOSED = "proposed", pgettext_lazy("absence report status", "Repair proposed")
    ACCEPTED = "accepted", pgettext_lazy("absence report status", "Accepted")
    REJECTED = "rejected", pgettext_lazy("absence report status", "Set aside")
    FAILED = "failed", pgettext_lazy("absence report status", "No repair found")
