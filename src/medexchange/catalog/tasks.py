"""The catalog's background work, imported here so that Celery workers register it."""

from medexchange.catalog.alerts import saved_search_alerts_send

__all__ = ["saved_search_alerts_send"]
