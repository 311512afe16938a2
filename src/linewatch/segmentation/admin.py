from django.contrib import admin

from linewatch.segmentation import models


@admin.register(models.FirewallConfig)
class FirewallConfigAdmin(admin.ModelAdmin):
    list_display = ("asset", "site", "file_name", "format", "current", "blocking", "loaded_at", "loaded_by")
    list_filter = ("site", "format", "current")
    search_fields = ("asset__name", "file_name", "digest")
    readonly_fields = ("digest", "loaded_at", "loaded_by", "loaded_by_user", "unsupported", "blocking")
