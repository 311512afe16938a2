from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "linewatch.web"
    label = "web"
    verbose_name = "Web UI"
