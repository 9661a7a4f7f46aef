from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("exports/observations.csv", views.observations_csv, name="observations-csv"),
    path("exports/observations.geojson", views.observations_geojson, name="observations-geojson"),
    path("exports/observations.gpkg", views.observations_geopackage, name="observations-gpkg"),
    path("exports/dwca.zip", views.darwin_core_archive, name="dwca"),
]
