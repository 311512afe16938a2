from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "linewatch.core"
    label = "core"
    verbose_name = "Plant model"

    def ready(self) -> None:
        from linewatch.core import audit

        audit.connect_signals()
