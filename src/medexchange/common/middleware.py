"""Per-user language and time zone."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
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
        # Both are restored once the response is made, so nothing of one person's request
        # stays active in the thread (a test client's next request, a task run in-process).
        with ExitStack() as stack:
            if user is not None and user.is_authenticated:
                try:
                    stack.enter_context(timezone.override(ZoneInfo(user.time_zone)))
                except (ZoneInfoNotFoundError, ValueError):
                    stack.enter_context(timezone.override(None))
                if (
                    not request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
                    and user.preferred_language
                    and user.preferred_language in dict(settings.LANGUAGES)
                ):
                    stack.enter_context(translation.override(user.preferred_language))
                    request.LANGUAGE_CODE = user.preferred_language
            else:
                stack.enter_context(timezone.override(None))
            response = self.get_response(request)
            # LocaleMiddleware only sets the header when it is missing.
            response.headers.setdefault("Content-Language", translation.get_language() or "")
            return response
