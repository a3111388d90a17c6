"""Signals other apps listen to, so applications need not know them.

``application_moved`` is sent by ``services._move`` after every state change, inside the
caller's transaction (a receiver's writes commit or roll back with the move; a receiver
that raises undoes the move). Keyword arguments: ``application``, ``source`` and ``to``
(the states), ``actor`` (None for automatic moves). Scholarships listen to release an
award when its application is withdrawn.
"""

from __future__ import annotations

from django.dispatch import Signal

application_moved = Signal()
