from django.urls import path

from exports import dwca_views, odata_views, submission_views, views

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
    path("exports/dwca.zip", dwca_views.darwin_core_archive, name="dwca"),
    path("odata/", odata_views.service, name="odata-service"),
    path("odata/$metadata", odata_views.metadata, name="odata-metadata"),
    path("odata/<str:name>", odata_views.entity_set, name="odata-entity-set"),
]
