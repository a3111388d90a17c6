from django.urls import path

from medexchange.matching import views

app_name = "matching"
urlpatterns = [
    path("match-cycles/", views.cycle_list, name="cycles"),
    path("match-cycles/new/", views.cycle_create, name="cycle-create"),
    path("match-cycles/<int:pk>/", views.cycle_detail, name="cycle"),
    path("match-cycles/<int:pk>/status/", views.cycle_act, name="cycle-act"),
    path("match-cycles/<int:pk>/my-ranking/", views.my_ranking, name="my-ranking"),
    path(
        "match-cycles/<int:pk>/sessions/<int:session_id>/ranking/",
        views.host_ranking,
        name="host-ranking",
    ),
    path("match-cycles/<int:pk>/runs/", views.run_start, name="run-start"),
    path("match-cycles/<int:pk>/post-match/", views.post_match, name="post-match"),
    path("match-runs/<int:pk>/", views.run_detail, name="run"),
    path("match-runs/<int:pk>/progress/", views.run_progress, name="run-progress"),
    path("match-runs/<int:pk>/cancel/", views.run_cancel, name="run-cancel"),
    path("match-runs/<int:pk>/release/", views.run_release, name="run-release"),
    path("match-runs/<int:pk>/compare/", views.run_compare, name="run-compare"),
    path("match-runs/<int:pk>/replay/", views.run_replay, name="run-replay"),
    path("match-runs/<int:pk>/instance.json", views.run_instance, name="run-instance"),
    path("match-runs/<int:pk>/result.json", views.run_result, name="run-result"),
]
