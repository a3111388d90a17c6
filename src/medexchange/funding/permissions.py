"""Who handles a network's money. Services call these; pages read through querysets."""

from __future__ import annotations

from typing import Any

from medexchange.network.models import Network


def _network_id(network: Network | int | None) -> int | None:
    return network.pk if isinstance(network, Network) else network


def is_finance_staff(user: Any, network: Network | int | None) -> bool:
    """Staff of ``network`` (a ``NetworkStaffRole``) and platform superusers: they record
    offline gifts, import bank files, record rates, commit awards and disburse."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    network_id = _network_id(network)
    if network_id is None:
        return False
    return bool(user.network_staff_roles.filter(network_id=network_id).exists())


def finance_network_ids(user: Any) -> Any:
    """Ids of the networks whose money ``user`` handles; ``None`` means every network."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    return user.staffed_network_ids()
