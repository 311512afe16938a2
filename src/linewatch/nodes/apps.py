from django.apps import AppConfig


class NodesConfig(AppConfig):
    name = "linewatch.nodes"
    label = "nodes"
    verbose_name = "Plant nodes"

    def ready(self) -> None:
        from linewatch.nodes import replication

        replication.connect_signals()
