"""Who may do what in a match cycle. Services call these; views find objects via querysets."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from medexchange.applications.models import reviewed_institution_ids
from medexchange.matching.models import MatchCycle
from medexchange.network.choices import MembershipStatus
from medexchange.network.models import Institution, Network


def can_manage_cycle(user: Any, cycle: MatchCycle) -> bool:
    """Staff of the cycle's network, or the organising host's coordinators."""
    return MatchCycle.objects.editable_by(user).filter(pk=cycle.pk).exists()


def can_rank_for_host(user: Any, host_id: int) -> bool:
    """The host's coordinators and reviewers rank its applicants (superusers too)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return reviewed_institution_ids(user).filter(institution_id=host_id).exists()


def organised_networks(user: Any) -> QuerySet[Network]:
    """Networks whose staff ``user`` is: they open cycles over their members' sessions."""
    if not user.is_authenticated:
        return Network.objects.none()
    staffed = user.staffed_network_ids()
    return Network.objects.all() if staffed is None else Network.objects.filter(pk__in=staffed)


def organised_hosts(user: Any) -> QuerySet[Institution]:
    """Institutions ``user`` coordinates: they open cycles over their own sessions."""
    if not user.is_authenticated:
        return Institution.objects.none()
    if user.is_superuser:
        return Institution.objects.all()
    return Institution.objects.filter(pk__in=user.coordinated_institution_ids())


def active_member_ids(network: Network) -> QuerySet[Any]:
    return network.memberships.filter(status=MembershipStatus.ACTIVE).values("institution_id")
