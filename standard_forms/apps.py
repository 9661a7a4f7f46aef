from django.apps import AppConfig


class StandardFormsConfig(AppConfig):
    name = "standard_forms"
    verbose_name = "Standard forms"
