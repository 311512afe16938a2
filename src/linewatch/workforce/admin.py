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
