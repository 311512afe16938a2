from django.apps import AppConfig


class WorkforceConfig(AppConfig):
    name = "linewatch.workforce"
    label = "workforce"
    verbose_name = "Workforce"
