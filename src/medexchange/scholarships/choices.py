"""Statuses and choice lists of scholarship calls, requests and awards."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CallStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("scholarship call status", "Draft")
    OPEN = "open", pgettext_lazy("scholarship call status", "Open for requests")
    REVIEWING = "reviewing", pgettext_lazy("scholarship call status", "Reviewing")
    ALLOCATED = "allocated", pgettext_lazy("scholarship call status", "Awards committed")
    CLOSED = "closed", pgettext_lazy("scholarship call status", "Closed")


C = CallStatus
#: Which statuses each call status may move to.
CALL_TRANSITIONS: dict[str, frozenset[str]] = {
    C.DRAFT: frozenset({C.OPEN, C.CLOSED}),
    C.OPEN: frozenset({C.REVIEWING, C.CLOSED}),
    C.REVIEWING: frozenset({C.ALLOCATED, C.CLOSED}),
    C.ALLOCATED: frozenset({C.CLOSED}),
    C.CLOSED: frozenset(),
}
#: Reviewers score requests while the call is in one of these.
SCORING_STATUSES = frozenset({C.OPEN, C.REVIEWING})
#: Awards are proposed and committed while the call is in one of these.
ALLOCATING_STATUSES = frozenset({C.REVIEWING, C.ALLOCATED})


class Cover(models.TextChoices):
    """What a scholarship pays for."""

    TRAVEL = "travel", _("Travel")
    HOUSING = "housing", _("Housing")
    FEES = "fees", _("Fees")
    STIPEND = "stipend", _("Stipend")


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", pgettext_lazy("scholarship request status", "Submitted")
    UNDER_REVIEW = "under_review", pgettext_lazy("scholarship request status", "Under review")
    AWARDED = "awarded", pgettext_lazy("scholarship request status", "Awarded")
    NOT_AWARDED = "not_awarded", pgettext_lazy("scholarship request status", "Not awarded")
    WITHDRAWN = "withdrawn", pgettext_lazy("scholarship request status", "Withdrawn")


R = RequestStatus
#: Requests still waiting for the committee's decision (the allocation considers these).
PENDING_REQUESTS = frozenset({R.SUBMITTED, R.UNDER_REVIEW})


class Pin(models.TextChoices):
    """The committee's adjustment of one request before the allocation is re-run."""

    NONE = "", _("Let the allocation decide")
    AWARD = "award", _("Award")
    NO_AWARD = "no_award", _("Do not award")


class RunStatus(models.TextChoices):
    DONE = "done", pgettext_lazy("allocation run status", "Done")
    FAILED = "failed", pgettext_lazy("allocation run status", "Failed")


class AwardStatus(models.TextChoices):
    PROPOSED = "proposed", pgettext_lazy("award status", "Proposed")
    COMMITTED = "committed", pgettext_lazy("award status", "Committed")
    PAID = "paid", pgettext_lazy("award status", "Paid")
    RELEASED = "released", pgettext_lazy("award status", "Released")
    CANCELLED = "cancelled", pgettext_lazy("award status", "Cancelled")


A = AwardStatus
#: Awards holding (or having held) money of a fund.
MONEY_AWARDS = frozenset({A.COMMITTED, A.PAID, A.RELEASED})
#: Awards a participant was actually given (impact counts).
GIVEN_AWARDS = frozenset({A.COMMITTED, A.PAID})
