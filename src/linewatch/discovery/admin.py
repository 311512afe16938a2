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


@admin.register(models.CmdbRecord)
class CmdbRecordAdmin(admin.ModelAdmin):
    list_display = ("site", "source", "line", "name", "ip", "mac", "hostname", "serial")
    list_filter = ("site", "source")
    search_fields = ("name", "ip", "mac", "hostname", "serial")


@admin.register(models.PostureFinding)
class PostureFindingAdmin(admin.ModelAdmin):
    list_display = ("device", "check_name", "severity", "status", "title", "last_found")
    list_filter = ("status", "severity", "check_name")
    search_fields = ("title", "evidence", "device__key")
