from django.urls import path

from medexchange.catalog.views import feeds, host, public

app_name = "catalog"
urlpatterns = [
    # Applicants: search and read.
    path("opportunities/", public.search, name="search"),
    path("opportunities/results.geojson", public.search_geojson, name="search-geojson"),
    path("opportunities/sessions.ics", feeds.search_calendar, name="search-calendar"),
    path("opportunities/<slug:slug>/", public.opportunity_detail, name="opportunity"),
    path("saved-searches/", public.saved_searches, name="saved-searches"),
    path("saved-searches/<int:pk>/delete/", public.saved_search_delete, name="saved-search-delete"),
    # Hosts: publish and manage.
    path(
        "institutions/<slug:slug>/opportunities/",
        host.host_opportunities,
        name="host-opportunities",
    ),
    path(
        "institutions/<slug:slug>/opportunities/new/", host.opportunity_add, name="opportunity-add"
    ),
    path(
        "institutions/<slug:slug>/opportunities/import/",
        host.opportunity_import,
        name="opportunity-import",
    ),
    path(
        "institutions/<slug:slug>/opportunities/export/",
        host.opportunity_export,
        name="opportunity-export",
    ),
    path("manage/opportunities/<slug:slug>/", host.opportunity_edit, name="opportunity-edit"),
    path(
        "manage/opportunities/<slug:slug>/duplicate/",
        host.opportunity_duplicate,
        name="opportunity-duplicate",
    ),
    path(
        "manage/opportunities/<slug:slug>/status/",
        host.opportunity_status,
        name="opportunity-status",
    ),
    path("manage/opportunities/<slug:slug>/sessions/new/", host.session_add, name="session-add"),
    path(
        "manage/opportunities/<slug:slug>/sessions/generate/",
        host.session_generate,
        name="session-generate",
    ),
    path("manage/sessions/<int:pk>/", host.session_edit, name="session-edit"),
    path("manage/sessions/<int:pk>/cancel/", host.session_cancel, name="session-cancel"),
]
