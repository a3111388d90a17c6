from django.urls import path

from medexchange.network import views

app_name = "network"
urlpatterns = [
    path("directory/", views.directory, name="directory"),
    path("networks/", views.network_list, name="networks"),
    path("institutions/<slug:slug>/", views.institution_detail, name="institution"),
    path("institutions/<slug:slug>/edit/", views.institution_edit, name="institution-edit"),
    path("institutions/<slug:slug>/people/", views.institution_people, name="institution-people"),
    path("institutions/<slug:slug>/sites/new/", views.site_edit, name="site-add"),
    path("institutions/<slug:slug>/sites/<int:pk>/edit/", views.site_edit, name="site-edit"),
    path("join/", views.join, name="join"),
    path("join/thanks/", views.join_thanks, name="join-thanks"),
    path("staff/join-requests/", views.join_queue, name="join-queue"),
    path("staff/join-requests/<int:pk>/", views.join_detail, name="join-detail"),
    path("staff/countries/", views.country_list, name="countries"),
    path("staff/countries/<str:code>/edit/", views.country_edit, name="country-edit"),
    path("map/", views.partner_map, name="map"),
    path("map/list/", views.partner_list, name="map-list"),
    path("map/institutions.geojson", views.map_geojson, name="map-geojson"),
]
