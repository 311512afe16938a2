"""Django admin for routing, contact paths and the notification outbox (attempts are read-only)."""

from django.contrib import admin

from linewatch.response import models


@admin.register(models.Routing)
class RoutingAdmin(admin.ModelAdmin):
    list_display = ["alert", "level", "sla_minutes", "due", "ownership_gap"]
    list_filter = ["ownership_gap"]


@admin.register(models.ContactPath)
class ContactPathAdmin(admin.ModelAdmin):
    list_display = ["team", "person", "priority", "label", "quiet_start", "quiet_end"]
    list_filter = ["team"]


@admin.register(models.Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created", "subject", "team", "rung", "status", "next_attempt", "exercise"]
    list_filter = ["status", "exercise"]


@admin.register(models.DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = ["time", "notification", "rung", "channel", "target", "outcome"]
    list_filter = ["outcome", "channel"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.Receipt)
class ReceiptAdmin(admin.ModelAdmin):
    list_display = ["time", "notification", "attempt", "kind", "source"]
    list_filter = ["kind"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ["slug", "subject"]
