"""What scholarships do when other apps' objects change (connected in ``apps.ready``)."""

from __future__ import annotations

from typing import Any


def release_on_application_closed(
    sender: Any, *, application: Any, source: str, to: str, actor: Any, **kwargs: Any
) -> None:
    """An application that will not happen gives its requests' money back to the funds."""
    from medexchange.scholarships.services import requests_close_for_application

    requests_close_for_application(application=application, actor=actor, to=to)
