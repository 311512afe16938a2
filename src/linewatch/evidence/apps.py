from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "linewatch.evidence"
    label = "evidence"
    verbose_name = "Evidence"
