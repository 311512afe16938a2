from django.contrib import admin

from linewatch.vulns import models


@admin.register(models.Vulnerability)
class VulnerabilityAdmin(admin.ModelAdmin):
    list_display = ("cve", "cvss", "cvss_kind", "status", "last_modified")
    search_fields = ("cve", "description")


@admin.register(models.Advisory)
class AdvisoryAdmin(admin.ModelAdmin):
    list_display = ("advisory_id", "title", "release_date", "version")
    search_fields = ("advisory_id", "title")


@admin.register(models.KevEntry)
class KevEntryAdmin(admin.ModelAdmin):
    list_display = ("cve", "vendor_project", "product", "date_added", "ransomware")
    search_fields = ("cve", "vendor_project", "product")


@admin.register(models.FeedImport)
class FeedImportAdmin(admin.ModelAdmin):
    list_display = ("time", "file", "kind", "records", "added", "updated", "unchanged")
    readonly_fields = [f.name for f in models.FeedImport._meta.fields]


@admin.register(models.Finding)
class FindingAdmin(admin.ModelAdmin):
    """Read-only here: status changes go through the register or the API, which write the audit trail."""

    list_display = ("site", "subject", "cve", "confidence", "kev", "risk_score", "status", "active")
    list_filter = ("site", "confidence", "kev", "status", "active")
    search_fields = ("subject", "cve")

    def has_change_permission(self, request, obj=None) -> bool:
        return False
