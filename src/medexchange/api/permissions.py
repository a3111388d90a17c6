"""Who may call which endpoint of the API.

The permission classes only decide "signed in or not". Whose object it is is decided by
the querysets (``editable_by``): what is not yours answers 404, like what does not exist.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request


class ReadOnlyOrSignedIn(BasePermission):
    """Reads are public; a write needs a signed-in caller (and the object's lookup, more)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated)
