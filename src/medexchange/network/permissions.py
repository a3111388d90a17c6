"""Who may do what in the directory; the querysets enforce it, these answer yes/no for pages."""

from __future__ import annotations

from typing import Any

from medexchange.network.models import Institution


def can_edit_institution(user: Any, institution: Institution) -> bool:
    return Institution.objects.editable_by(user).filter(pk=institution.pk).exists()


def is_network_staff(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_network_staff)
