from django.apps import AppConfig


class DetectConfig(AppConfig):
    name = "linewatch.detect"
    label = "detect"
    verbose_name = "Detection and alerts"
