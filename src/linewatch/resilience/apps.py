from django.apps import AppConfig


class ResilienceConfig(AppConfig):
    name = "linewatch.resilience"
    label = "resilience"
    verbose_name = "Resilience"

    def ready(self) -> None:
        # Roll-call reminder waves ride on the notification dispatcher's beat (the worker runs it).
        from linewatch.resilience.services import remind_due
        from linewatch.response.notify import BEFORE_DISPATCH

        if remind_due not in BEFORE_DISPATCH:
            BEFORE_DISPATCH.append(remind_due)
