"""Django admin for alerts, cases and the handoff log (the log is append-only)."""

from django.contrib import admin

from linewatch.detect import models


@admin.register(models.Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["time", "severity_id", "site_slug", "title", "asset", "owner_team", "status", "cost_per_hour"]
    list_filter = ["status", "severity_id", "site_slug"]
    search_fields = ["title", "rule_id", "uid"]
    readonly_fields = ["uid", "finding", "event_uids"]


@admin.register(models.Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["uid", "title", "site_slug", "status"]
    list_filter = ["status", "site_slug"]
    search_fields = ["title", "uid"]


@admin.register(models.AlertNote)
class AlertNoteAdmin(admin.ModelAdmin):
    list_display = ["alert", "action"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
