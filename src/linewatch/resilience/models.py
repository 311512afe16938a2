"""Resilience: crises and their phases, the site status board, roll calls with every answer kept,
and degraded-mode runbooks with each step's completion.

Nothing is overwritten: a phase change, a site-status confirmation and a roll-call answer are
each a new row, so the after-action report (and the evidence ledger) can replay who knew what when.
"""

from __future__ import annotations

from django.db import models

from linewatch.core.models import Person, Site, Team


class CrisisKind(models.TextChoices):
    CYBER = "cyber", "Cyber attack"
    PHYSICAL = "physical", "Physical threat"
    NATURAL = "natural", "Natural event"
    INFRASTRUCTURE = "infrastructure", "Infrastructure outage"


class Phase(models.TextChoices):
    """Incident phases (FACT24 CIM; ISO 22320 command cycle): each change is kept with who and when."""

    MONITORING = "monitoring", "Monitoring"
    MOBILISATION = "mobilisation", "Mobilisation"
    HANDLING = "handling", "Handling"
    RECOVERY = "recovery", "Recovery"
    CLOSED = "closed", "Closed"


PHASE_ORDER = [p.value for p in Phase]


class Crisis(models.Model):
    """A declared crisis for one or several sites; `exercise` marks a drill (CAP status Exercise,
    every message prefixed EXERCISE)."""

    uid = models.SlugField(max_length=40, unique=True, help_text="Stable name in URLs and CAP identifiers")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=CrisisKind.choices)
    sites = models.ManyToManyField(Site, related_name="crises")
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.MOBILISATION)
    exercise = models.BooleanField(default=False)
    description = models.TextField(blank=True)
    declared = models.DateTimeField(db_index=True)
    declared_by = models.CharField(max_length=150)
    closed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-declared"]
        verbose_name_plural = "crises"

    def __str__(self) -> str:
        return f"{'EXERCISE ' if self.exercise else ''}{self.title} ({self.get_kind_display()}, {self.phase})"


class PhaseChange(models.Model):
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="phase_changes")
    phase = models.CharField(max_length=16, choices=Phase.choices)
    time = models.DateTimeField()
    by = models.CharField(max_length=150)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["time", "id"]

    def __str__(self) -> str:
        return f"{self.crisis_id} → {self.phase} by {self.by}"


class SiteState(models.TextChoices):
    OPERATIONAL = "operational", "Operational"
    DEGRADED = "degraded", "Degraded"
    DOWN = "down", "Down"


class SiteStatus(models.Model):
    """One confirmation of a site's state (EDXL-HAVE style: status + capacity). The board shows each
    site's latest; older rows are the history."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="status_reports")
    crisis = models.ForeignKey(Crisis, null=True, blank=True, on_delete=models.SET_NULL, related_name="site_statuses")
    state = models.CharField(max_length=16, choices=SiteState.choices)
    capacity = models.PositiveSmallIntegerField(help_text="Percent of normal production capacity")
    reason = models.CharField(max_length=300, blank=True)
    time = models.DateTimeField(db_index=True)
    by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-time", "-id"]
        verbose_name_plural = "site statuses"
        constraints = [models.CheckConstraint(condition=models.Q(capacity__lte=100), name="site_status_capacity_pct")]

    def __str__(self) -> str:
        return f"{self.site.slug}: {self.state} {self.capacity}%"


class RollCall(models.Model):
    """Who is safe at one site during a crisis. Reminder waves go to non-responders every
    `reminder_minutes`; after `max_waves` the site's emergency team gets the unaccounted list."""

    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="roll_calls")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="roll_calls")
    opened = models.DateTimeField()
    closed = models.DateTimeField(null=True, blank=True)
    reminder_minutes = models.PositiveIntegerField(default=5)
    max_waves = models.PositiveSmallIntegerField(default=2)
    waves = models.PositiveSmallIntegerField(default=0, help_text="Messages sent so far (the first is wave 1)")
    last_wave = models.DateTimeField(null=True, blank=True)
    escalated = models.DateTimeField(null=True, blank=True, help_text="When the emergency team was told")

    class Meta:
        ordering = ["-opened"]
        constraints = [models.UniqueConstraint(fields=["crisis", "site"], name="one_roll_call_per_site")]

    def __str__(self) -> str:
        return f"roll call {self.site.slug} ({self.crisis_id})"


class Answer(models.TextChoices):
    SAFE = "safe", "Safe"
    NEED_HELP = "need_help", "Need help"
    NOT_ON_SITE = "not_on_site", "Not on site"


class Channel(models.TextChoices):
    LINK = "link", "Personal link"
    SMS = "sms", "SMS reply"
    EMAIL = "email", "E-mail reply"
    KIOSK = "kiosk", "Kiosk"
    STAFF = "staff", "Recorded by staff"


class Participant(models.Model):
    """One person in a roll call's audience, with the short code they quote in SMS and e-mail replies."""

    roll_call = models.ForeignKey(RollCall, on_delete=models.CASCADE, related_name="participants")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="roll_calls")
    on_site = models.BooleanField(help_text="On the live roster (badged in) when the roll call opened")
    why = models.CharField(max_length=200, help_text="How the person came into the audience")
    code = models.CharField(max_length=8, help_text="Quoted in SMS and e-mail replies: SAFE 4821")

    class Meta:
        ordering = ["person__name"]
        constraints = [models.UniqueConstraint(fields=["roll_call", "person"], name="one_participant_per_person"),
                       models.UniqueConstraint(fields=["roll_call", "code"], name="participant_code_unique")]

    def __str__(self) -> str:
        return f"{self.person.name} in {self.roll_call}"


class AnswerLink(models.Model):
    """A personal answer link: single use, expiring. Only the digest of its secret is stored."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="links")
    digest = models.CharField(max_length=64, unique=True)
    issued = models.DateTimeField()
    expires = models.DateTimeField()
    used = models.DateTimeField(null=True, blank=True)
    wave = models.PositiveSmallIntegerField(default=1)
    notification = models.ForeignKey("response.Notification", null=True, blank=True, on_delete=models.SET_NULL,
                                     help_text="The message that carried the link: its receipt says answered")

    def __str__(self) -> str:
        return f"link {self.pk} for {self.participant_id} (wave {self.wave})"


class RollCallAnswer(models.Model):
    """Every answer, by every channel, is kept; a participant's status is their latest."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="answers")
    answer = models.CharField(max_length=16, choices=Answer.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    time = models.DateTimeField(db_index=True)
    text = models.CharField(max_length=500, blank=True, help_text="Free text from the reply")
    via = models.CharField(max_length=200, blank=True, help_text="Phone number, e-mail address, kiosk user")

    class Meta:
        ordering = ["time", "id"]

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.answer} by {self.channel}"


class Runbook(models.Model):
    """A degraded-mode checklist for one site and scenario, loaded from a YAML file."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="runbooks")
    slug = models.SlugField()
    title = models.CharField(max_length=200)
    scenario = models.CharField(max_length=16, choices=CrisisKind.choices)
    source = models.CharField(max_length=300, blank=True, help_text="The YAML file it came from")

    class Meta:
        ordering = ["site__slug", "slug"]
        constraints = [models.UniqueConstraint(fields=["site", "slug"], name="runbook_slug_per_site")]

    def __str__(self) -> str:
        return f"{self.site.slug}/{self.slug}"


class RunbookStep(models.Model):
    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    owner_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL)
    owner = models.CharField(max_length=200, blank=True, help_text="Role or person, as written in the runbook")
    due_minutes = models.PositiveIntegerField(help_text="Due this long after the run starts")
    photo_required = models.BooleanField(default=False)

    class Meta:
        ordering = ["runbook", "order"]
        constraints = [models.UniqueConstraint(fields=["runbook", "order"], name="runbook_step_order")]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"


class RunbookRun(models.Model):
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="runbook_runs")
    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="runs")
    started = models.DateTimeField()
    started_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["started", "id"]
        constraints = [models.UniqueConstraint(fields=["crisis", "runbook"], name="one_run_per_crisis")]

    def __str__(self) -> str:
        return f"{self.runbook} in crisis {self.crisis_id}"


class StepCompletion(models.Model):
    """A step done: when, by whom, a note and optionally a photo (kept in the database with its hash)."""

    run = models.ForeignKey(RunbookRun, on_delete=models.CASCADE, related_name="completions")
    step = models.ForeignKey(RunbookStep, on_delete=models.CASCADE, related_name="completions")
    time = models.DateTimeField()
    by = models.CharField(max_length=150)
    note = models.TextField(blank=True)
    photo = models.BinaryField(null=True, blank=True)
    photo_type = models.CharField(max_length=50, blank=True)
    photo_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["time", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "step"], name="step_done_once_per_run")]

    def __str__(self) -> str:
        return f"{self.step} done by {self.by}"


class Shift(models.Model):
    """Who is expected at a site when: an RRULE with a DURATION on the site's wall clock (plant calendar aware,
    linewatch.workforce.engine.schedule), for a team's members and/or named people. A roll call accounts for the
    people on shift even when no badge says they came in (a reader down, a tailgate, a badge left at home)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="shifts")
    slug = models.SlugField()
    name = models.CharField(max_length=200)
    schedule = models.CharField(max_length=300, help_text="RRULE with DURATION, e.g. "
                                "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=6;BYMINUTE=0;DURATION=PT8H")
    team = models.ForeignKey("core.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="shifts")
    people = models.ManyToManyField(Person, blank=True, related_name="shifts")
    source = models.CharField(max_length=300, blank=True, help_text="The YAML file it came from")

    class Meta:
        ordering = ["site__slug", "slug"]
        constraints = [models.UniqueConstraint(fields=["site", "slug"], name="shift_slug_per_site")]

    def __str__(self) -> str:
        return f"{self.site.slug}/{self.slug}"
