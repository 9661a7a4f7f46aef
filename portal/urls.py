from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from portal import views


class SchemaView(SpectacularAPIView):
    """The OpenAPI document: the shape of the API, the same for everyone."""

    access_policy = "public"


urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("cases/", include("enforcement.urls")),
    path("api/v1/", include("protected_areas.urls")),
    path("api/v1/", include("odk_forms.urls")),
    path("api/v1/", include("observations.urls")),
    path("api/v1/", include("indicators.urls")),
    path("api/v1/", include("exports.urls")),
    path("api/v1/", include("accounts.urls")),
    path("api/v1/", include("webhooks.urls")),
    path("maps/", include("maps.urls")),
    path("exports/", include("exports.page_urls")),
    path("reports/", include("reports.urls")),
    path("api/v1/schema/", SchemaView.as_view(), name="api-schema"),
    # OpenRosa (ODK Collect, Enketo): /formList, /submission, /forms/..., /key/..., /test/...
    path("", include("odk_forms.openrosa.urls")),
]
