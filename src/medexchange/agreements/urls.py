from django.urls import path

from medexchange.agreements import views

app_name = "agreements"
urlpatterns = [
    path("agreements/", views.agreement_list, name="list"),
    path("agreements/new/", views.agreement_create, name="create"),
    path("agreements/<int:pk>/", views.agreement_detail, name="detail"),
    path("agreements/<int:pk>/edit/", views.agreement_edit, name="edit"),
    path("agreements/<int:pk>/status/", views.agreement_status, name="status"),
    path("agreements/<int:pk>/document/", views.document_upload, name="document-upload"),
    path("agreements/<int:pk>/signed.pdf", views.document_download, name="document"),
    path("networks/<slug:slug>/reciprocity/", views.reciprocity, name="reciprocity"),
]
