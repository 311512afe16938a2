from django.contrib import admin

from linewatch.discovery import models


@admin.register(models.DiscoveredDevice)
class DiscoveredDeviceAdmin(admin.ModelAdmin):
    list_display = ("key", "site", "ip", "vendor", "kind", "status", "asset", "last_seen")
    list_filter = ("site", "status", "kind")
    search_fields = ("key", "ip", "mac", "hostname", "vendor", "model", "serial")


@admin.register(models.Observation)
class ObservationAdmin(admin.ModelAdmin):
    list_display = ("device", "attribute", "value", "source", "packet", "confidence")
    search_fields = ("value", "attribute")
