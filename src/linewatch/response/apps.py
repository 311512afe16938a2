from django.apps import AppConfig


class ResponseConfig(AppConfig):
    name = "linewatch.response"
    label = "response"
    verbose_name = "Response"
