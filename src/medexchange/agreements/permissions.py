"""Who acts for which side of an agreement. Services call these; views use querysets."""

from __future__ import annotations

from typing import Any

from medexchange.agreements.choices import Side
from medexchange.agreements.models import Agreement


def staffs(user: Any, network_id: int | None) -> bool:
    if network_id is None or not user.is_authenticated or not user.is_network_staff:
        return False
    staffed = user.staffed_network_ids()
    return staffed is None or staffed.filter(network_id=network_id).exists()


def sides_of(user: Any, agreement: Agreement) -> set[str]:
    """The sides ``user`` may act for: a party's coordinators for that party; for a
    network-wide agreement, the network's staff. Platform superusers act for no party."""
    if not user.is_authenticated:
        return set()
    if agreement.is_network_wide:
        return {Side.NETWORK} if staffs(user, agreement.network_id) else set()
    mine = set(user.coordinated_institution_ids())
    sides: set[str] = set()
    if agreement.party_a_id in mine:
        sides.add(Side.A)
    if agreement.party_b_id in mine:
        sides.add(Side.B)
    return sides


def can_edit(user: Any, agreement: Agreement) -> bool:
    return Agreement.objects.editable_by(user).filter(pk=agreement.pk).exists()
