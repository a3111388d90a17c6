from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScholarshipsConfig(AppConfig):
    name = "medexchange.scholarships"
    label = "scholarships"
    verbose_name = _("Scholarships")

    def ready(self) -> None:
        # An award is released when its application is withdrawn (``services``).
        from medexchange.applications.signals import application_moved
        from medexchange.scholarships.receivers import release_on_application_closed

        application_moved.connect(
            release_on_application_closed, dispatch_uid="scholarships.release"
        )
