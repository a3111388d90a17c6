"""Per-user language and time zone."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


class UserPreferencesMiddleware:
    """Show a signed-in user's pages in their language and time zone.

    An explicit choice in the language switcher (the language cookie) still wins,
    so a user can look at a page in another language for a while.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                timezone.activate(ZoneInfo(user.time_zone))
            except (ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
            if (
                not request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
                and user.preferred_language
                and user.preferred_language in dict(settings.LANGUAGES)
            ):
                translation.activate(user.preferred_language)
                request.LANGUAGE_CODE = user.preferred_language
        else:
            timezone.deactivate()
        return self.get_response(request)
