"""The applicant's match result on their application page."""

from __future__ import annotations

from typing import Any

from django import template

from medexchange.matching import selectors
from medexchange.matching.models import MatchCycle

register = template.Library()


@register.inclusion_tag("matching/_application_result.html", takes_context=True)
def match_result_for(context: dict[str, Any], application: Any) -> dict[str, Any]:
    """Released results of the cycles this application took part in, for its applicant."""
    request = context.get("request")
    user = getattr(request, "user", None)
    results = []
    if user is not None and user.is_authenticated and application.applicant_id == user.pk:
        cycles = MatchCycle.objects.filter(
            sessions=application.session_id, released_run__isnull=False
        ).select_related("released_run")
        for cycle in cycles:
            run = cycle.released_run
            if run is None:
                continue
            if application.pk not in run.key.get(selectors.person_id(user.pk), {}).values():
                continue
            found = selectors.person_result(run, user)
            if found is not None:
                results.append((cycle, found))
    return {"results": results}
