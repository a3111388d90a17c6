from django.urls import path

from medexchange.documents import views

app_name = "documents"
urlpatterns = [
    # The applicant's vault.
    path("documents/", views.document_list, name="list"),
    path("documents/new/", views.document_upload, name="upload"),
    path("documents/<int:pk>/edit/", views.document_edit, name="edit"),
    path("documents/<int:pk>/versions/new/", views.version_upload, name="version-upload"),
    path("documents/<int:pk>/delete/", views.document_delete, name="delete"),
    # The only way to a stored file: checks permission and records the access.
    path("documents/versions/<int:pk>/download/", views.version_download, name="download"),
    # Recommendation letters.
    path("documents/referees/new/", views.referee_request_new, name="referee-request"),
    path(
        "documents/referees/<int:pk>/resend/",
        views.referee_request_resend,
        name="referee-request-resend",
    ),
    path(
        "documents/referees/<int:pk>/cancel/",
        views.referee_request_cancel,
        name="referee-request-cancel",
    ),
    # The referee's one-time link: no account.
    path("referee/<str:token>/", views.referee_upload, name="referee-upload"),
]
