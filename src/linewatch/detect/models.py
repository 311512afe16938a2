"""Alerts: detections enriched with the asset, the owner and the physical consequence."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

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
    # Handling: filled by `detect.cases` (assign_case, acknowledge, assign, close).
    case = models.ForeignKey("Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    assigned_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="assigned_alerts", help_text="Handed to a team, not a person")
    status_changed = models.DateTimeField(null=True, blank=True, help_text="When the status last changed")

    class Meta:
        ordering = ["-time"]
        indexes = [models.Index(fields=["site_slug", "status", "-time"]),
                   models.Index(fields=["created"], name="detect_alert_created_idx")]  # the live stream's cursor

    def __str__(self) -> str:
        return f"{self.title} ({self.site_slug})"


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Case(models.Model):
    """Related alerts handled as one: same site, and the same asset or the same person, close in time.

    `detect.cases.assign_case` puts each new alert into an open case or starts one; the figures
    (severity, cost, first and last seen, status) follow the case's alerts (`detect.cases.refresh_case`).
    """

    uid = models.CharField(max_length=64, primary_key=True, help_text="From the alert that opened the case")
    site_slug = models.CharField(max_length=50, blank=True, db_index=True)
    title = models.CharField(max_length=300)
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    severity_id = models.PositiveSmallIntegerField(default=1, db_index=True)
    cost_per_hour = models.FloatField(default=0)
    safety_critical = models.BooleanField(default=False)
    first_seen = models.DateTimeField(db_index=True)
    last_seen = models.DateTimeField(db_index=True)
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases",
                              help_text="The asset of the alert that opened the case")
    actors = models.JSONField(default=list, help_text="People (user names, badge holders) the alerts share")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_seen"]
        indexes = [models.Index(fields=["site_slug", "status", "-last_seen"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.site_slug})"


class AlertAction(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", "Acknowledged"
    ASSIGN = "assign", "Assigned"
    CLOSE = "close", "Closed"
    REOPEN = "reopen", "Reopened"
    COMMENT = "comment", "Commented"


class AlertNote(models.Model):
    """The handoff log of an alert: who changed its status or assignee, when and why, and comments."""

    id = models.BigAutoField(primary_key=True)
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notes")
    time = models.DateTimeField(default=timezone.now, db_index=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="alert_notes")
    author_name = models.CharField(max_length=150, help_text="Kept when the user is deleted")
    via = models.CharField(max_length=20, default="web")
    action = models.CharField(max_length=16, choices=AlertAction.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    from_assignee = models.CharField(max_length=200, blank=True, help_text="user:NAME or team:SLUG")
    to_assignee = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True, help_text="Why: the note, the reason for closing, or the comment")

    class Meta:
        ordering = ["time", "id"]

    def __str__(self) -> str:
        return f"{self.author_name} {self.action} {self.alert_id}"
