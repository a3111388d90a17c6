from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from tests.security.world import World, build_world


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    """The world is built once per module, inside a transaction rolled back at its end.

    Each test still runs in its own savepoint (the ``db`` fixture), so nothing a test
    does leaks into the next one, and nothing of the world leaks into other modules.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture
def walk(world: World, db: Any) -> World:
    """The world, with database access for the test using it."""
    return world
