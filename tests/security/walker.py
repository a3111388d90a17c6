"""Every URL pattern the project serves, found by walking the root resolver."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class FoundPattern:
    key: str  # the namespaced name, or the full route when the pattern has no name
    route: str  # the full route, prefixes included
    view: str  # dotted path of the view, for messages


def _view_path(pattern: URLPattern) -> str:
    callback = pattern.callback
    return f"{callback.__module__}.{getattr(callback, '__qualname__', type(callback).__name__)}"


def _walk(
    patterns: list[URLPattern | URLResolver], prefix: str, namespace: str | None
) -> Iterator[FoundPattern]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, route, inner)
        elif pattern.name:
            key = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield FoundPattern(key=key, route=route, view=_view_path(pattern))
        else:
            yield FoundPattern(key=route, route=route, view=_view_path(pattern))


def url_patterns() -> list[FoundPattern]:
    """All patterns of ROOT_URLCONF, recursively through every include()."""
    return list(_walk(get_resolver().url_patterns, "", None))
