"""MedExchange: international medical education exchange networks."""

from medexchange.celery import app as celery_app

__all__ = ["celery_app"]
