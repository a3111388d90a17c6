from django.db import models
from django.utils.translation import gettext_lazy as _


class InstitutionRoleKind(models.TextChoices):
    COORDINATOR = "coordinator", _("Coordinator")
    REVIEWER = "reviewer", _("Reviewer")
    SUPERVISOR = "supervisor", _("Site supervisor")
