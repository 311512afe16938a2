"""Django admin for the event store (read-only: events are facts, not records to edit)."""

from django.contrib import admin

from linewatch.events import models


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.StoredEvent)
class StoredEventAdmin(ReadOnly):
    list_display = ["time", "site_slug", "source", "class_uid", "activity_id", "uid"]
    list_filter = ["source", "site_slug", "class_uid"]
    search_fields = ["uid"]
    date_hierarchy = "time"


@admin.register(models.ConsumerPosition)
class ConsumerPositionAdmin(ReadOnly):
    list_display = ["name", "position", "updated"]
