from django.urls import path, re_path

from exports import kinds, record_views, views

app_name = "exports"

urlpatterns = [
    path("exports/observations.csv", views.observations_csv, name="observations-csv"),
    path("exports/observations.geojson", views.observations_geojson, name="observations-geojson"),
    path("exports/observations.gpkg", views.observations_geopackage, name="observations-gpkg"),
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
