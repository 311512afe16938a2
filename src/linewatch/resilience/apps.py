from django.apps import AppConfig


class ResilienceConfig(AppConfig):
    name = "linewatch.resilience"
    label = "resilience"
    verbose_name = "Resilience"
