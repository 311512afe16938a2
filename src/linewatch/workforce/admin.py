"""Django admin for work orders and authorisations."""

from django.contrib import admin

from linewatch.workforce import models


@admin.register(models.WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    list_display = ["key", "title", "site", "status", "assignee", "starts_at", "ends_at"]
    list_filter = ["site", "status"]
    search_fields = ["key", "title"]
    filter_horizontal = ["assets"]


@admin.register(models.Authorisation)
class AuthorisationAdmin(admin.ModelAdmin):
    list_display = ["person", "area", "site", "valid_from", "valid_to", "work_order", "granted_by"]
    list_filter = ["site"]


@admin.register(models.Credential)
class CredentialAdmin(admin.ModelAdmin):
    list_display = ["identifier", "kind", "system", "issue_code", "person", "status", "valid_to", "is_decoy"]
    list_filter = ["kind", "status", "is_decoy"]
    search_fields = ["identifier", "person__key", "person__name"]


@admin.register(models.Training)
class TrainingAdmin(admin.ModelAdmin):
    list_display = ["person", "kind", "completed_on", "expires_on"]
    list_filter = ["kind"]


@admin.register(models.ZoneRequirement)
class ZoneRequirementAdmin(admin.ModelAdmin):
    list_display = ["area", "kind"]


@admin.register(models.Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["visitor", "site", "host", "escort", "expected_start", "expected_end", "status"]
    list_filter = ["site", "status"]


@admin.register(models.PlantCalendar)
class PlantCalendarAdmin(admin.ModelAdmin):
    list_display = ["site", "country", "subdivision"]


@admin.register(models.PlantHoliday)
class PlantHolidayAdmin(admin.ModelAdmin):
    list_display = ["site", "date", "name", "closed"]
    list_filter = ["site", "closed"]


@admin.register(models.PersonState)
class PersonStateAdmin(admin.ModelAdmin):
    list_display = ["person", "status", "changed_at", "changed_by"]
    list_filter = ["status"]


@admin.register(models.RevocationReport)
class RevocationReportAdmin(admin.ModelAdmin):
    list_display = ["person", "created_at", "created_by", "proven"]
    readonly_fields = ["items", "proof"]


@admin.register(models.ReviewCampaign)
class ReviewCampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "deadline", "status", "auto_revoke"]


@admin.register(models.ReviewItem)
class ReviewItemAdmin(admin.ModelAdmin):
    list_display = ["summary", "campaign", "reviewer", "decision", "decided_at"]
    list_filter = ["decision"]


@admin.register(models.ZoneOwner)
class ZoneOwnerAdmin(admin.ModelAdmin):
    list_display = ["area", "person"]


@admin.register(models.WatchlistEntry)
class WatchlistEntryAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "reason", "source", "banned", "active", "expires_on", "organisation", "site"]
    list_filter = ["banned", "active", "organisation", "site"]
    search_fields = ["name", "aliases", "company", "source"]
    list_select_related = ["organisation", "site"]
