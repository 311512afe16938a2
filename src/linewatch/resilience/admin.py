"""Django admin for crises, site status, roll calls and runbooks; answers and step completions are
records of what happened, so they are read-only here."""

from django.contrib import admin

from linewatch.resilience import models


@admin.register(models.Crisis)
class CrisisAdmin(admin.ModelAdmin):
    list_display = ["uid", "title", "kind", "phase", "exercise", "declared", "declared_by"]
    list_filter = ["kind", "phase", "exercise"]


@admin.register(models.SiteStatus)
class SiteStatusAdmin(admin.ModelAdmin):
    list_display = ["time", "site", "state", "capacity", "reason", "by"]
    list_filter = ["state", "site"]


@admin.register(models.RollCall)
class RollCallAdmin(admin.ModelAdmin):
    list_display = ["crisis", "site", "opened", "waves", "max_waves", "escalated", "closed"]


class ReadOnly(admin.ModelAdmin):
    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(models.RollCallAnswer)
class RollCallAnswerAdmin(ReadOnly):
    list_display = ["time", "participant", "answer", "channel", "via"]
    list_filter = ["answer", "channel"]


class StepInline(admin.TabularInline):
    model = models.RunbookStep
    extra = 0


@admin.register(models.Runbook)
class RunbookAdmin(admin.ModelAdmin):
    list_display = ["site", "slug", "title", "scenario", "source"]
    list_filter = ["scenario", "site"]
    inlines = [StepInline]


@admin.register(models.StepCompletion)
class StepCompletionAdmin(ReadOnly):
    list_display = ["time", "run", "step", "by", "photo_sha256"]
    exclude = ["photo"]


@admin.register(models.PhaseChange)
class PhaseChangeAdmin(ReadOnly):
    list_display = ["time", "crisis", "phase", "by", "note"]


@admin.register(models.Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["roll_call", "person", "on_site", "why"]
    exclude = ["code"]


@admin.register(models.AnswerLink)
class AnswerLinkAdmin(ReadOnly):
    list_display = ["participant", "wave", "issued", "expires", "used"]
    exclude = ["digest"]


@admin.register(models.RunbookRun)
class RunbookRunAdmin(admin.ModelAdmin):
    list_display = ["crisis", "runbook", "started", "started_by"]
