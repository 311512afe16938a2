from django.apps import AppConfig


class PatrolsConfig(AppConfig):
    name = "linewatch.patrols"
    label = "patrols"
    verbose_name = "Patrols"
