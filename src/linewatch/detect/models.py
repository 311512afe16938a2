"""Alerts: detections enriched with the asset, the owner and the physical consequence."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from linewatch.core.models import Asset, Team


class AlertStatus(models.TextChoices):
    NEW = "new", "New"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    CLOSED = "closed", "Closed"


class Alert(models.Model):
    """One detection; `finding` holds it as an OCSF Detection Finding (class 2004), the one form
    the API, the UI, notifications and the evidence ledger read."""

    uid = models.CharField(max_length=64, primary_key=True,
                           help_text="From the rule and its events: the same detection is one alert")
    time = models.DateTimeField(db_index=True)
    created = models.DateTimeField(auto_now_add=True)
    rule_id = models.CharField(max_length=100, db_index=True)
    title = models.CharField(max_length=300)
    severity_id = models.PositiveSmallIntegerField(db_index=True)
    confidence = models.PositiveSmallIntegerField(default=80)
    site_slug = models.CharField(max_length=50, blank=True, db_index=True)
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    owner_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.NEW)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    cost_per_hour = models.FloatField(default=0, db_index=True)
    safety_critical = models.BooleanField(default=False)
    event_uids = models.JSONField(default=list)
    finding = models.JSONField()

    class Meta:
        ordering = ["-time"]
        indexes = [models.Index(fields=["site_slug", "status", "-time"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.site_slug})"
