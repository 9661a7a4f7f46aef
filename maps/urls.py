from django.urls import path

from maps import views

app_name = "maps"

urlpatterns = [
    path("data/observations.geojson", views.observations, name="observations-data"),
    path("data/tracks.geojson", views.tracks, name="tracks-data"),
]
