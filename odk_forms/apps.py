from django.apps import AppConfig


class OdkFormsConfig(AppConfig):
    name = "odk_forms"
    verbose_name = "ODK forms and submissions"
