from django.urls import path

from enforcement import views

app_name = "enforcement"

urlpatterns = [
    path("", views.case_list, name="cases"),
    path("open", views.case_open, name="case-open"),
    path("<uuid:case_uuid>/", views.case_detail, name="case"),
    path("<uuid:case_uuid>/status", views.case_status, name="case-status"),
    path("<uuid:case_uuid>/notes", views.case_note, name="case-note"),
    path("<uuid:case_uuid>/records", views.case_record, name="case-record"),
    path("<uuid:case_uuid>/outcome", views.case_outcome, name="case-outcome"),
    path("<uuid:case_uuid>/case-file.zip", views.case_file, name="case-file"),
]
