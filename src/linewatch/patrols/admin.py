"""Patrols in the Django admin: tours and checkpoints are edited here or loaded from a file; runs, scans,
photos and exceptions are evidence and shown read-only (the ledger holds their records anyway)."""

from django.contrib import admin

from linewatch.patrols import models


class TourStopInline(admin.TabularInline):
    model = models.TourStop
    extra = 0


@admin.register(models.Tour)
class TourAdmin(admin.ModelAdmin):
    list_display = ("slug", "site", "name", "rrule", "walking_speed_mps", "active")
    list_filter = ("site", "active")
    inlines = [TourStopInline]


@admin.register(models.Checkpoint)
class CheckpointAdmin(admin.ModelAdmin):
    list_display = ("code", "site", "name", "kind", "area", "radius_m", "sdm_counter")
    list_filter = ("site", "kind")
    search_fields = ("code", "name", "tag_uid")
    exclude = ("sdm_meta_key", "sdm_file_key")  # tag keys are loaded from a file, never shown


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(models.PatrolRun)
class PatrolRunAdmin(ReadOnlyAdmin):
    list_display = ("uid", "tour", "guard_name", "started", "status", "completion")
    list_filter = ("status", "tour__site")


@admin.register(models.PatrolException)
class PatrolExceptionAdmin(ReadOnlyAdmin):
    list_display = ("at", "site", "kind", "checkpoint", "detail")
    list_filter = ("kind", "site")


@admin.register(models.IncidentReport)
class IncidentReportAdmin(ReadOnlyAdmin):
    list_display = ("occurred", "site", "category", "severity", "where", "guard_name")
    list_filter = ("site", "category", "severity")
