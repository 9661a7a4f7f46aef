"""OpenRosa URLs, at the server root, as ODK Collect appends /formList and /submission to
the server URL it is given. The same endpoints live under /key/<token>/ (a collector's QR
code) and, for a draft being tested, under /test/<draft_token>/. The token URL itself is
the collector's page of web forms (odk_forms.views)."""

from django.urls import include, path

from odk_forms import views as pages
from odk_forms.openrosa import views

published = [
    path("formList", views.form_list, name="form-list"),
    path("submission", views.submission, name="submission"),
    path(
        "forms/<str:xml_form_id>/versions/<int:version_id>/form.xml",
        views.form_download,
        name="form-download",
    ),
    path("forms/<str:xml_form_id>/versions/<int:version_id>/manifest", views.manifest, name="manifest"),
    path("forms/<str:xml_form_id>/versions/<int:version_id>/media/<str:filename>", views.media, name="media"),
]

draft = [
    path("formList", views.form_list, name="form-list"),
    path("submission", views.submission, name="submission"),
    path("forms/<str:xml_form_id>/form.xml", views.form_download, name="form-download"),
    path("forms/<str:xml_form_id>/manifest", views.manifest, name="manifest"),
    path("forms/<str:xml_form_id>/media/<str:filename>", views.media, name="media"),
]

urlpatterns = [
    path("", include((published, "openrosa"))),
    # The token URL itself, opened in a browser: the collector's web forms.
    path("key/<str:token>/", pages.collector_web_forms, name="collector-web-forms"),
    path("key/<str:token>/", include((published, "openrosa_key"))),
    path("test/<str:draft_token>/", include((draft, "openrosa_draft"))),
]
