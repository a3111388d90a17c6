from django.urls import path

from medexchange.applications.views import applicant
from medexchange.applications.views import home as home_views
from medexchange.applications.views import host as host_views
from medexchange.applications.views import letters as letter_views
from medexchange.applications.views import staff as staff_views

app_name = "applications"
urlpatterns = [
    # Applicants.
    path("applications/", applicant.my_applications, name="mine"),
    path("sessions/<int:session_id>/apply/", applicant.apply, name="apply"),
    path("applications/<int:pk>/", applicant.detail, name="detail"),
    path("applications/<int:pk>/edit/", applicant.edit, name="edit"),
    path("applications/<int:pk>/withdraw/", applicant.withdraw, name="withdraw"),
    path("applications/<int:pk>/accept/", applicant.accept, name="accept"),
    path("applications/<int:pk>/decline-offer/", applicant.decline_offer, name="decline-offer"),
    path("checklist/<int:pk>/tick/", applicant.checklist_tick, name="checklist-tick"),
    # Letters: issued by the host, downloaded by the application's people, checked by anyone.
    path(
        "applications/<int:pk>/letters/<str:kind>/issue/",
        letter_views.issue,
        name="letter-issue",
    ),
    path("applications/<int:pk>/letters/<str:kind>.pdf", letter_views.download, name="letter"),
    path("letters/<int:pk>/revoke/", letter_views.revoke, name="letter-revoke"),
    path("institutions/<slug:slug>/letters/", letter_views.templates, name="letter-templates"),
    path("verify/", letter_views.verify, name="verify"),
    path("verify/<str:code>/", letter_views.verify_letter, name="verify-letter"),
    # Hosts: inbound dashboard, review queue, review page, criteria (docs/reviewing.md).
    path("institutions/<slug:slug>/inbound/", host_views.inbound, name="inbound"),
    path("manage/sessions/<int:pk>/applications/", host_views.queue, name="queue"),
    path("applications/<int:pk>/review/", host_views.review, name="review"),
    path("manage/opportunities/<slug:slug>/criteria/", host_views.criteria, name="criteria"),
    path(
        "manage/opportunities/<slug:slug>/criteria/<int:pk>/",
        host_views.criterion_edit,
        name="criterion-edit",
    ),
    path(
        "manage/opportunities/<slug:slug>/criteria/<int:pk>/delete/",
        host_views.criterion_delete,
        name="criterion-delete",
    ),
    # Home institutions: endorsement and outbound dashboard.
    path("applications/<int:pk>/endorsement/", home_views.endorsement, name="endorsement"),
    path("institutions/<slug:slug>/outbound/", home_views.outbound, name="outbound"),
    # Network staff.
    path("network/applications/", staff_views.network_dashboard, name="network-dashboard"),
]
