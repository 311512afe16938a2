from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "linewatch.evidence"
    label = "evidence"
    verbose_name = "Evidence"

    def ready(self) -> None:
        from linewatch.evidence import signals

        signals.connect_signals()
