from django.urls import path

from maps import pages, views

app_name = "maps"

urlpatterns = [
    path("", pages.overview, name="overview"),
    path("areas/<int:pk>/", pages.area, name="area"),
    path("species/", pages.species_index, name="species-index"),
    path("species/<slug:slug>/", pages.species, name="species"),
    path("enforcement/", pages.enforcement, name="enforcement"),
    path("data/areas.geojson", views.areas, name="areas-data"),
    path("data/context.geojson", views.context, name="context-data"),
    path("data/observations.geojson", views.observations, name="observations-data"),
    path("data/tracks.geojson", views.tracks, name="tracks-data"),
]
