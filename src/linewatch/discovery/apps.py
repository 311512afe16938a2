from django.apps import AppConfig


class DiscoveryConfig(AppConfig):
    name = "linewatch.discovery"
    label = "discovery"
    verbose_name = "Discovery"
