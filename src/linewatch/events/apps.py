from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "linewatch.events"
    label = "events"
    verbose_name = "Events"
