from django.urls import path

from medexchange.scheduling import views

app_name = "scheduling"
urlpatterns = [
    path("rotation-plans/", views.plan_list, name="plans"),
    path("sessions/<int:session_id>/rotation-plan/", views.session_plan, name="session-plan"),
    path("rotation-plans/<int:pk>/", views.plan_detail, name="plan"),
    path("rotation-plans/<int:pk>/settings/", views.plan_settings, name="settings"),
    path("rotation-plans/<int:pk>/pairs/", views.pair_add, name="pair-add"),
    path("rotation-plans/<int:pk>/pairs/remove/", views.pair_remove, name="pair-remove"),
    path("rotation-plans/<int:pk>/refresh/", views.plan_refresh, name="refresh"),
    path("rotation-plans/<int:pk>/sites/<int:site_id>/", views.site_edit, name="site"),
    path(
        "rotation-plans/<int:pk>/participants/<int:participant_id>/",
        views.participant_edit,
        name="participant",
    ),
    path(
        "rotation-plans/<int:pk>/cells/<int:participant_id>/<int:period>/",
        views.cell_edit,
        name="cell",
    ),
    path("rotation-plans/<int:pk>/solve/", views.solve_start, name="solve-start"),
    path("rotation-plans/<int:pk>/publish/", views.plan_publish, name="publish"),
    path("rotation-plans/<int:pk>/roster/", views.plan_roster, name="roster"),
    path(
        "rotation-plans/<int:pk>/participants/<int:participant_id>/roster.pdf",
        views.participant_roster_pdf,
        name="participant-roster-pdf",
    ),
    path(
        "rotation-plans/<int:pk>/sites/<int:site_id>/roster.pdf",
        views.site_roster_pdf,
        name="site-roster-pdf",
    ),
    path("rotation-plans/<int:pk>/calendar-feeds/", views.feed_issue, name="feed-issue"),
    path("calendar-feeds/<int:pk>/revoke/", views.feed_revoke, name="feed-revoke"),
    path("calendar/rotation/<str:token>.ics", views.feed, name="feed"),
    path(
        "rotation-plans/<int:pk>/participants/<int:participant_id>/absence/",
        views.absence_new,
        name="absence-new",
    ),
    path("absences/<int:pk>/", views.absence_detail, name="absence"),
    path(
        "absences/<int:pk>/<str:decision>/",
        views.absence_decide,
        name="absence-decide",
    ),
    path("rotation-solves/<int:pk>/", views.solve_detail, name="solve"),
    path("rotation-solves/<int:pk>/progress/", views.solve_progress, name="solve-progress"),
    path("rotation-solves/<int:pk>/cancel/", views.solve_cancel, name="solve-cancel"),
    path("rotation-solves/<int:pk>/plan.json", views.solve_input, name="solve-input"),
    path("rotation-solves/<int:pk>/result.json", views.solve_result, name="solve-result"),
]
