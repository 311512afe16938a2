"""The routing of one alert: who it goes to next if nobody acknowledges it, and by when."""

from __future__ import annotations

from django.db import models

from linewatch.detect.models import Alert


class Routing(models.Model):
    """An alert's SLA clock and escalation ladder (teams and named people, in order)."""

    alert = models.OneToOneField(Alert, on_delete=models.CASCADE, primary_key=True, related_name="routing")
    ladder = models.JSONField(help_text='[{"team": slug, "team_name": …, "person": name or "", "why": …}, …]')
    level = models.PositiveSmallIntegerField(default=0, help_text="The rung the alert is on now")
    sla_minutes = models.PositiveIntegerField()
    due = models.DateTimeField(db_index=True, help_text="Acknowledge by then, or it moves up the ladder")
    ownership_gap = models.BooleanField(default=False, help_text="No accountable owner: routed by the site default")

    def __str__(self) -> str:
        return f"{self.alert_id} at rung {self.level}, due {self.due:%Y-%m-%d %H:%M}"
