from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "medexchange.matching"
    label = "matching"
    verbose_name = _("Match cycles")
