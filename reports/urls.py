from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("areas/<int:pk>/<int:year>.pdf", views.area_report, name="area-pdf"),
]
