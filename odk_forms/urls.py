from django.urls import include, path

from fieldkit.api import Router
from odk_forms import api, views

router = Router()
router.register("forms", api.FormViewSet, basename="form")

urlpatterns = [
    path(
        "submissions/<int:pk>/attachments/<str:name>",
        views.submission_attachment,
        name="submission-attachment",
    ),
    path("", include(router.urls)),
]
