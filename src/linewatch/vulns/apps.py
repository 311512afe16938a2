from django.apps import AppConfig


class VulnsConfig(AppConfig):
    name = "linewatch.vulns"
    label = "vulns"
    verbose_name = "Vulnerabilities"
