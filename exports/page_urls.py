from django.urls import path

from exports import record_views

app_name = "export-pages"

urlpatterns = [
    path("", record_views.jobs_page, name="jobs"),
]
