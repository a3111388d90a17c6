"""Site-wide pages: home, health check, language switch."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from medexchange.accounts.services import user_update_preferences
from medexchange.celery import app as celery_app
from medexchange.common.models import Notification
from medexchange.common.services import notifications_mark_read
from medexchange.network import selectors as network_selectors


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"stats": network_selectors.network_stats()})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Report whether the database (and the broker, when one is set) can be reached."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError:
        checks["database"] = "unreachable"
    if settings.CELERY_BROKER_URL:
        try:
            with celery_app.connection_for_write() as broker:
                broker.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception:
            checks["broker"] = "unreachable"
    else:
        checks["broker"] = "not configured (tasks run in-process)"
    healthy = all(value != "unreachable" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        notifications_mark_read(user=request.user)
        return redirect("notifications")
    items = Notification.objects.visible_to(request.user)[:50]
    return render(request, "notifications.html", {"notifications": items})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, also remembered as a signed-in user's preference."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    user = request.user
    if user.is_authenticated and language in dict(settings.LANGUAGES):
        user_update_preferences(user=user, preferred_language=language, actor=user)
    return response
