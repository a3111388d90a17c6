from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from medexchange.common import views as common_views

# The admin signs in through allauth, so two-factor authentication applies there too.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "MedExchange"
admin.site.site_title = "MedExchange admin"

urlpatterns = [
    path("", common_views.home, name="home"),
    path("healthz", common_views.healthz, name="healthz"),
    path("notifications/", common_views.notifications, name="notifications"),
    path("i18n/setlang/", common_views.set_language, name="set_language"),
    path("accounts/", include("medexchange.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("medexchange.network.urls")),
    path("", include("medexchange.catalog.urls")),
    path("", include("medexchange.documents.urls")),
    path("", include("medexchange.applications.urls")),
    path("", include("medexchange.agreements.urls")),
    path("", include("medexchange.matching.urls")),
    path("", include("medexchange.scheduling.urls")),
    path("", include("medexchange.funding.urls")),
    path("", include("medexchange.scholarships.urls")),
    path("api/", include("medexchange.api.urls")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
