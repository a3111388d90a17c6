"""Statuses and units of exchange agreements."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("agreement status", "Draft")
    PROPOSED = "proposed", pgettext_lazy("agreement status", "Proposed")
    ACCEPTED = "accepted", pgettext_lazy("agreement status", "Accepted, not yet in force")
    ACTIVE = "active", pgettext_lazy("agreement status", "Active")
    EXPIRED = "expired", pgettext_lazy("agreement status", "Expired")
    DECLINED = "declined", pgettext_lazy("agreement status", "Declined")
    TERMINATED = "terminated", pgettext_lazy("agreement status", "Terminated")


class QuotaUnit(models.TextChoices):
    PARTICIPANTS = "participants", _("Participants")
    PERSON_MONTHS = "person_months", _("Person-months")


class Side(models.TextChoices):
    """Who approved: party A, party B, or (network-wide agreements) the network's staff."""

    A = "a", _("Party A")
    B = "b", _("Party B")
    NETWORK = "network", _("Network staff")


S = AgreementStatus
#: The state machine: which statuses each status may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.PROPOSED}),
    S.PROPOSED: frozenset({S.ACCEPTED, S.DECLINED, S.DRAFT}),
    S.ACCEPTED: frozenset({S.ACTIVE, S.EXPIRED, S.TERMINATED}),
    S.ACTIVE: frozenset({S.EXPIRED, S.TERMINATED}),
    S.EXPIRED: frozenset(),
    S.DECLINED: frozenset(),
    S.TERMINATED: frozenset(),
}
#: Agreements both sides have agreed to and that are not over.
IN_FORCE_OR_SOON = frozenset({S.ACCEPTED, S.ACTIVE})
