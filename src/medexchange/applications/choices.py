"""The application state machine and the other choice lists of applications."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ApplicationState(models.TextChoices):
    # A context of their own: "Submitted" as a state is not "Submitted" as a date column.
    DRAFT = "draft", pgettext_lazy("application state", "Draft")
    SUBMITTED = "submitted", pgettext_lazy("application state", "Submitted")
    ENDORSED = "endorsed", pgettext_lazy("application state", "Endorsed by home institution")
    NOT_ENDORSED = (
        "not_endorsed",
        pgettext_lazy("application state", "Not endorsed by home institution"),
    )
    UNDER_REVIEW = "under_review", pgettext_lazy("application state", "Under review")
    OFFERED = "offered", pgettext_lazy("application state", "Offered a place")
    WAITLISTED = "waitlisted", pgettext_lazy("application state", "Waitlisted")
    DECLINED = "declined", pgettext_lazy("application state", "Declined by host")
    OFFER_DECLINED = "offer_declined", pgettext_lazy("application state", "Offer declined")
    OFFER_EXPIRED = "offer_expired", pgettext_lazy("application state", "Offer expired")
    ACCEPTED = "accepted", pgettext_lazy("application state", "Accepted")
    CONFIRMED = "confirmed", pgettext_lazy("application state", "Confirmed")
    IN_PROGRESS = "in_progress", pgettext_lazy("application state", "In progress")
    COMPLETED = "completed", pgettext_lazy("application state", "Completed")
    WITHDRAWN = "withdrawn", pgettext_lazy("application state", "Withdrawn")


S = ApplicationState

#: Every allowed move, from → to. Services refuse anything else.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.SUBMITTED: frozenset(
        {S.ENDORSED, S.NOT_ENDORSED, S.UNDER_REVIEW, S.OFFERED, S.WAITLISTED, S.DECLINED}
        | {S.WITHDRAWN}
    ),
    S.ENDORSED: frozenset({S.UNDER_REVIEW, S.OFFERED, S.WAITLISTED, S.DECLINED, S.WITHDRAWN}),
    S.UNDER_REVIEW: frozenset({S.OFFERED, S.WAITLISTED, S.DECLINED, S.WITHDRAWN}),
    S.WAITLISTED: frozenset({S.OFFERED, S.DECLINED, S.WITHDRAWN}),
    S.OFFERED: frozenset({S.ACCEPTED, S.OFFER_DECLINED, S.OFFER_EXPIRED, S.WITHDRAWN}),
    S.ACCEPTED: frozenset({S.CONFIRMED, S.WITHDRAWN}),
    S.CONFIRMED: frozenset({S.IN_PROGRESS, S.WITHDRAWN}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.WITHDRAWN}),
    S.NOT_ENDORSED: frozenset(),
    S.DECLINED: frozenset(),
    S.OFFER_DECLINED: frozenset(),
    S.OFFER_EXPIRED: frozenset(),
    S.COMPLETED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

#: Closed for good: a new application to the same session may then be made.
FINAL_STATES = frozenset(state for state, moves in TRANSITIONS.items() if not moves)
#: Still going: at most one of these per applicant and session.
ACTIVE_STATES = frozenset(TRANSITIONS) - FINAL_STATES
#: States in which the application holds a seat of its session.
SEAT_STATES = frozenset({S.ACCEPTED, S.CONFIRMED, S.IN_PROGRESS, S.COMPLETED})
#: Waiting for the host's decision (the review queue).
AWAITING_DECISION = frozenset({S.SUBMITTED, S.ENDORSED, S.UNDER_REVIEW, S.WAITLISTED})
#: The host has decided (offer, waitlist or decline): counted for the time to decision.
DECIDED_STATES = frozenset(
    {S.OFFERED, S.WAITLISTED, S.DECLINED, S.OFFER_DECLINED, S.OFFER_EXPIRED} | SEAT_STATES
)


class ChecklistItemKind(models.TextChoices):
    """The pre-departure checklist both sides tick after acceptance."""

    VISA = "visa", _("Visa or entry permit")
    INSURANCE = "insurance", _("Health and liability insurance")
    IMMUNISATIONS = "immunisations", _("Immunisations verified")
    TRAVEL_DATES = "travel_dates", _("Travel dates")
    ARRIVAL = "arrival", _("Arrival instructions")


class LetterKind(models.TextChoices):
    ACCEPTANCE = "acceptance", _("Acceptance letter")
    VISA_SUPPORT = "visa_support", _("Visa-support letter")
