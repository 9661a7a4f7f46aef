from django.urls import path

from exports import submission_views, views

app_name = "exports"

urlpatterns = [
    path("exports/observations.csv", views.observations_csv, name="observations-csv"),
    path("exports/observations.geojson", views.observations_geojson, name="observations-geojson"),
    path("exports/observations.gpkg", views.observations_geopackage, name="observations-gpkg"),
    path(
        "exports/forms/<int:form_id>/submissions.csv.zip",
        submission_views.submissions_csv_zip,
        name="submissions-csv-zip",
    ),
    path(
        "exports/forms/<int:form_id>/submissions.xlsx",
        submission_views.submissions_xlsx,
        name="submissions-xlsx",
    ),
]
