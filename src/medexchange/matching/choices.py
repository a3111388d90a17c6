"""The match cycle's and the run's states, and the other choice lists of matching."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CycleStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("match cycle status", "Draft")
    RANKING = "ranking", pgettext_lazy("match cycle status", "Ranking")
    CLOSED = "closed", pgettext_lazy("match cycle status", "Ranking closed")
    RELEASED = "released", pgettext_lazy("match cycle status", "Results released")
    POST_MATCH = "post_match", pgettext_lazy("match cycle status", "Post-match round")
    FINISHED = "finished", pgettext_lazy("match cycle status", "Closed for good")
    CANCELLED = "cancelled", pgettext_lazy("match cycle status", "Cancelled")


C = CycleStatus

#: Every allowed move of a cycle, from → to. ``released`` is passed through on release,
#: which opens the post-match round in the same transaction.
CYCLE_TRANSITIONS: dict[str, frozenset[str]] = {
    C.DRAFT: frozenset({C.RANKING, C.CANCELLED}),
    C.RANKING: frozenset({C.CLOSED, C.CANCELLED}),
    C.CLOSED: frozenset({C.RANKING, C.RELEASED, C.CANCELLED}),
    C.RELEASED: frozenset({C.POST_MATCH}),
    C.POST_MATCH: frozenset({C.FINISHED}),
    C.FINISHED: frozenset(),
    C.CANCELLED: frozenset(),
}

#: While a session is in a cycle in one of these, its host may not offer directly.
OFFER_BLOCKING = frozenset({C.RANKING, C.CLOSED})
#: Cycles whose applicants and hosts may still be asked to rank or wait for a result.
OPEN_STATUSES = frozenset({C.DRAFT, C.RANKING, C.CLOSED})


class RunKind(models.TextChoices):
    DRY = "dry", _("Dry run")
    FINAL = "final", _("Final run")


class RunStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("match run status", "Queued")
    RUNNING = "running", pgettext_lazy("match run status", "Running")
    DONE = "done", pgettext_lazy("match run status", "Done")
    FAILED = "failed", pgettext_lazy("match run status", "Failed")
    CANCELLED = "cancelled", pgettext_lazy("match run status", "Cancelled")


#: A run in one of these may still change; the run page polls while it is.
RUN_PENDING = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})


class RunStage(models.TextChoices):
    """What a running run is doing, shown under its progress bar."""

    QUEUED = "queued", _("Waiting for a worker")
    BUILDING = "building", _("Building the instance from the rankings")
    SOLVING = "solving", _("Solving")
    EXPLAINING = "explaining", _("Writing the explanations")
    SAVING = "saving", _("Saving the result and its statistics")
    FINISHED = "finished", _("Finished")


class RankSide(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    HOST = "host", _("Host")
