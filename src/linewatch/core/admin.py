"""Django admin for every plant-model object (administrators only; changes reach the audit trail)."""

from django.contrib import admin

from linewatch.core import models


class InterfaceInline(admin.TabularInline):
    model = models.Interface
    extra = 0


class TeamMemberInline(admin.TabularInline):
    model = models.TeamMember
    extra = 0
    autocomplete_fields = ["person"]


@admin.register(models.Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "currency"]


@admin.register(models.Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "kind", "timezone", "organisation"]
    list_filter = ["kind", "organisation"]
    search_fields = ["slug", "name"]


@admin.register(models.Zone)
class ZoneAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "site", "purdue_level", "security_level_target"]
    list_filter = ["site", "purdue_level"]
    search_fields = ["slug", "name"]


@admin.register(models.Conduit)
class ConduitAdmin(admin.ModelAdmin):
    list_display = ["slug", "site", "from_zone", "to_zone", "direction"]
    list_filter = ["site"]


@admin.register(models.Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "site", "restricted_level", "parent"]
    list_filter = ["site", "restricted_level"]
    search_fields = ["slug", "name"]


@admin.register(models.Door)
class DoorAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "site", "area", "kind", "controller"]
    list_filter = ["site", "kind"]
    filter_horizontal = ["readers"]


@admin.register(models.Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "kind", "vendor", "model", "firmware", "zone", "criticality"]
    list_filter = ["site", "kind", "criticality"]
    search_fields = ["name", "vendor", "model", "serial", "interfaces__ip", "interfaces__mac"]
    inlines = [InterfaceInline]


@admin.register(models.Interface)
class InterfaceAdmin(admin.ModelAdmin):
    list_display = ["asset", "name", "ip", "mac", "vlan"]
    search_fields = ["ip", "mac", "asset__name"]


@admin.register(models.Line)
class LineAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "site", "kind", "downtime_cost_per_hour", "trucks_per_day", "perishable_value",
                    "hours_to_spoil", "safety_critical"]
    list_filter = ["site", "kind", "safety_critical"]


@admin.register(models.Dependency)
class DependencyAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "line", "asset", "effect", "required"]
    list_filter = ["site", "effect"]
    filter_horizontal = ["members"]


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "kind", "site", "email"]
    list_filter = ["kind", "site"]
    search_fields = ["slug", "name"]
    inlines = [TeamMemberInline]


@admin.register(models.Ownership)
class OwnershipAdmin(admin.ModelAdmin):
    list_display = ["site", "scope", "kind", "asset", "role", "team"]
    list_filter = ["site", "scope", "role"]


@admin.register(models.Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "kind", "risk_standing", "contract_expires", "insurance_expires"]
    search_fields = ["slug", "name"]


@admin.register(models.Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "company", "email"]
    search_fields = ["key", "name", "email"]


@admin.register(models.SiteAffiliation)
class SiteAffiliationAdmin(admin.ModelAdmin):
    list_display = ["person", "site", "kind", "sponsor", "valid_from", "valid_to"]
    list_filter = ["site", "kind"]


@admin.register(models.AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["time", "actor_name", "via", "action", "object_type", "object_repr", "site_slug"]
    list_filter = ["action", "object_type", "site_slug"]
    search_fields = ["object_repr", "actor_name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the trail is append-only

    def has_delete_permission(self, request, obj=None):
        return False


class RoleSitesInline(admin.TabularInline):
    model = models.RoleAssignment.sites.through
    extra = 0


@admin.register(models.RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "all_sites"]
    list_filter = ["role"]
    filter_horizontal = ["sites"]


@admin.register(models.ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "prefix", "created", "expires", "last_used"]
    readonly_fields = ["prefix", "digest", "created", "last_used"]


@admin.register(models.TeamMember)
class TeamMemberAdmin(admin.ModelAdmin):
    list_display = ["team", "person", "is_lead"]
    list_filter = ["team"]
