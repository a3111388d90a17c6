from django.db import models
from django.utils.translation import gettext_lazy as _


class RefereeRequestStatus(models.TextChoices):
    """Derived from a request's timestamps, never stored."""

    PENDING = "pending", _("Waiting for the referee")
    RECEIVED = "received", _("Letter received")
    EXPIRED = "expired", _("Link expired")
    CANCELLED = "cancelled", _("Cancelled")


class ExpiryFlag(models.TextChoices):
    """How a document's expiry date looks today."""

    VALID = "valid", _("Valid")
    EXPIRES_SOON = "expires_soon", _("Expires soon")
    EXPIRED = "expired", _("Expired")
