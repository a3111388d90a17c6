from django.urls import path

from medexchange.scholarships import views

app_name = "scholarships"
urlpatterns = [
    path("scholarships/", views.call_list, name="calls"),
    path("networks/<slug:slug>/scholarships/new/", views.call_create, name="call-create"),
    path("scholarships/<int:pk>/", views.call_detail, name="call"),
    path("scholarships/<int:pk>/edit/", views.call_edit, name="call-edit"),
    path("scholarships/<int:pk>/status/", views.call_status, name="call-status"),
    path(
        "scholarships/<int:pk>/apply/<int:application_id>/",
        views.request_create,
        name="apply",
    ),
    path("scholarships/<int:pk>/requests/", views.call_requests, name="requests"),
    path("scholarships/<int:pk>/allocation/", views.allocation, name="allocation"),
    path("scholarships/<int:pk>/allocation/propose/", views.allocation_propose, name="propose"),
    path("scholarships/<int:pk>/allocation/commit/", views.awards_commit, name="commit"),
    path("scholarships/runs/<int:pk>/<str:kind>.json", views.run_data, name="run-data"),
    path("scholarships/requests/<int:pk>/", views.request_detail, name="request"),
    path("scholarships/requests/<int:pk>/review/", views.request_review, name="review"),
    path("scholarships/requests/<int:pk>/adjust/", views.request_adjust, name="adjust"),
    path(
        "scholarships/requests/<int:pk>/withdraw/",
        views.request_withdraw,
        name="request-withdraw",
    ),
    path("scholarships/awards/<int:pk>/", views.award_detail, name="award"),
    path(
        "scholarships/awards/<int:pk>/payments/",
        views.award_disbursement,
        name="disbursement",
    ),
    path("scholarships/awards/<int:pk>/cancel/", views.award_cancel, name="award-cancel"),
]
