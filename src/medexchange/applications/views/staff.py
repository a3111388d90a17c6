"""Network staff: how many applications are in each state, per host and home country.

Counts only, never files or names: staff run the network, hosts decide. Staff-only like
the network app's staff pages: anyone else signed in gets 403.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from medexchange.applications import selectors
from medexchange.network.permissions import is_network_staff


@login_required
@require_GET
def network_dashboard(request: HttpRequest) -> HttpResponse:
    if not is_network_staff(request.user):
        raise PermissionDenied(_("Only network staff can open this page."))
    applications = selectors.staff_state_counts(request.user)
    states = selectors.state_counts(applications)
    return render(
        request,
        "applications/staff/dashboard.html",
        {
            "states": [row for row in states if row[0] != "draft"],
            "total": sum(count for _state, _label, count in states),
            "by_host_country": selectors.counts_by_country(
                applications, "session__opportunity__host__country"
            ),
            "by_home_country": selectors.counts_by_country(applications, "home_country"),
        },
    )
