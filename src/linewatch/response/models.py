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


class ContactPath(models.Model):
    """One way to reach a team or a person (an Apprise URL), in the order to try them."""

    team = models.ForeignKey("core.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="contact_paths")
    person = models.ForeignKey("core.Person", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="contact_paths")
    priority = models.PositiveSmallIntegerField(help_text="1 is tried first")
    url = models.CharField(max_length=500, help_text="Apprise URL: mailto://relay:25?to=…, json://…, mqtt://…, ntfy://…")
    label = models.CharField(max_length=100, blank=True)
    quiet_start = models.TimeField(null=True, blank=True,
                                   help_text="Quiet hours (local time of the team's or person's site): only "
                                             "critical messages use this path between start and end")
    quiet_end = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["team", "person", "priority"]
        constraints = [
            models.CheckConstraint(condition=models.Q(team__isnull=False) ^ models.Q(person__isnull=False),
                                   name="contact_path_has_one_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.team or self.person} #{self.priority} {self.label or self.url.split(':', 1)[0]}"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # in the outbox, the next rung is due
    SENT = "sent", "Sent, waiting for acknowledgement"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    EXHAUSTED = "exhausted", "Every rung tried"


class Notification(models.Model):
    """The durable outbox: one message to one team or person, climbing their contact ladder until
    acknowledged. Nothing here lives only in memory, so a restart loses nothing."""

    id = models.BigAutoField(primary_key=True)
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    team = models.ForeignKey("core.Team", null=True, blank=True, on_delete=models.SET_NULL)
    person = models.ForeignKey("core.Person", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="notifications", help_text="A message to one person (roll call)")
    subject = models.CharField(max_length=300)
    body = models.TextField()
    ladder = models.JSONField(help_text="The contact URLs in order, fixed when the message was queued")
    rung = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    next_attempt = models.DateTimeField(db_index=True)
    ack_window_seconds = models.PositiveIntegerField(default=300)
    exercise = models.BooleanField(default=False, help_text="A drill: delivered and recorded, marked as exercise")
    critical = models.BooleanField(default=True, help_text="Critical messages ignore quiet hours")
    automatic = models.BooleanField(default=False, help_text="Raised by a trigger, not a person: flood-guarded")
    digest = models.BooleanField(default=False, help_text="Collects the automatic messages the flood guard held")
    held = models.PositiveIntegerField(default=0, help_text="For a digest: how many messages it replaces")
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.subject} → {self.team} ({self.status})"


class DeliveryAttempt(models.Model):
    """Every try on every rung, and what the channel said: "sent" is not "received"."""

    id = models.BigAutoField(primary_key=True)
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attempts")
    time = models.DateTimeField()
    rung = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=40, help_text="The URL's scheme: mailto, json, mqtt, ntfy…")
    target = models.CharField(max_length=500, help_text="The URL without credentials")
    outcome = models.CharField(max_length=16, help_text="accepted (the transport took it), failed, acknowledged")
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["time", "id"]

    def __str__(self) -> str:
        return f"{self.notification_id} rung {self.rung} {self.channel}: {self.outcome}"


class ReceiptKind(models.TextChoices):
    TRANSPORT = "transport", "Accepted by the transport"
    DELIVERED = "delivered", "Delivered (the channel says so)"
    ACKNOWLEDGED = "acknowledged", "Acknowledged by a person"
    ANSWERED = "answered", "Answered (roll call)"


class Receipt(models.Model):
    """What is known about a message after sending, per attempt: each kind is kept with its source,
    so a dashboard never shows "sent" as "received"."""

    id = models.BigAutoField(primary_key=True)
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="receipts")
    attempt = models.ForeignKey(DeliveryAttempt, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="receipts")
    kind = models.CharField(max_length=16, choices=ReceiptKind.choices)
    time = models.DateTimeField()
    source = models.CharField(max_length=200, help_text="Who told us: the SMTP relay, the broker, a user, a reply")

    class Meta:
        ordering = ["time", "id"]

    def __str__(self) -> str:
        return f"{self.notification_id} {self.kind}"


class MessageTemplate(models.Model):
    """A message text with $variables (string.Template); overrides the built-in text of the same slug."""

    slug = models.SlugField(unique=True, help_text="alert, crisis_declared, rollcall, rollcall_reminder, "
                                                   "rollcall_unaccounted, digest")
    subject = models.CharField(max_length=300)
    body = models.TextField()

    def __str__(self) -> str:
        return self.slug
