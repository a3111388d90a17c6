"""Background work shared by every app."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_templated_email(
    *, to: list[str], template: str, context: dict[str, Any], language: str = "en"
) -> None:
    """Render ``<template>_subject.txt`` and ``<template>_body.txt`` in ``language`` and send."""
    with translation.override(language):
        context = {"site_url": settings.SITE_URL, **context}
        subject = render_to_string(f"{template}_subject.txt", context).strip()
        body = render_to_string(f"{template}_body.txt", context)
    message = EmailMultiAlternatives(subject=" ".join(subject.split()), body=body, to=to)
    message.send()
