"""The API: versioned routes under v1/, the OpenAPI schema and its browsable docs."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from medexchange.agreements.api import AgreementViewSet
from medexchange.api import applications, catalog, matching, views
from medexchange.funding.api import FundViewSet
from medexchange.scheduling.api import RotationPlanViewSet
from medexchange.scholarships.api import ScholarshipCallViewSet


class V1Router(DefaultRouter):
    """A browsable root at v1/, without duplicate ``.json`` routes in the schema."""

    include_format_suffixes = False


router = V1Router()
router.register("countries", views.CountryViewSet, basename="country")
router.register("networks", views.NetworkViewSet, basename="network")
router.register("institutions", views.InstitutionViewSet, basename="institution")
router.register("opportunities", catalog.OpportunityViewSet, basename="opportunity")
router.register("sessions", catalog.SessionViewSet, basename="session")
router.register("applications", applications.ApplicationViewSet, basename="application")
router.register("agreements", AgreementViewSet, basename="agreement")
router.register("match-cycles", matching.MatchCycleViewSet, basename="match-cycle")
router.register("match-runs", matching.MatchRunViewSet, basename="match-run")
router.register("rotation-plans", RotationPlanViewSet, basename="rotation-plan")
router.register("scholarship-calls", ScholarshipCallViewSet, basename="scholarship-call")
router.register("funds", FundViewSet, basename="fund")

urlpatterns: list[URLPattern | URLResolver] = [
    path("v1/", include((router.urls, "api-v1"))),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script from a URL, not inline: the CSP forbids inline scripts.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]
