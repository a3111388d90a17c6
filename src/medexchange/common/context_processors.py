from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language_bidi

from medexchange.common.models import Notification


def site(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    return {
        "unread_notifications": (
            Notification.objects.visible_to(user).unread().count() if signed_in else 0
        ),
        "LANGUAGE_BIDI": get_language_bidi(),
        "is_network_staff": signed_in and getattr(user, "is_network_staff", False),
        "MAP_TILE_URL": settings.MAP_TILE_URL,
        "MAP_TILE_ATTRIBUTION": settings.MAP_TILE_ATTRIBUTION,
    }
