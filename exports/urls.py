from django.urls import path, re_path

from exports import dwca_views, kinds, odata_views, record_views, submission_views, views

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
    path("exports/jobs/", record_views.job_list, name="jobs"),
    path("exports/jobs/<int:pk>/", record_views.job_status, name="job"),
    path("exports/jobs/<int:pk>/download", record_views.job_download, name="job-download"),
    # Every record kind in every format (exports.kinds.KINDS; exports.formats.FORMATS).
    re_path(
        r"^exports/(?P<kind>{})\.(?P<fmt>csv|xlsx|geojson|gpkg|shp\.zip|kml)$".format("|".join(kinds.KINDS)),
        record_views.record_export,
        name="records",
    ),
]
