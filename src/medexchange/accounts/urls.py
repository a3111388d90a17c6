from django.urls import path

from medexchange.accounts import views, views_privacy

app_name = "accounts"
urlpatterns = [
    path("preferences/", views.preferences, name="preferences"),
    path("profile/", views.profile, name="profile"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    # The person's own data: a copy of it, and erasure.
    path("data/export/", views_privacy.data_export, name="data-export"),
    path("delete/", views_privacy.account_delete, name="delete"),
]
