"""The extended workforce: work orders, authorisations, credentials, training, visits, plant
calendars, lifecycle (offboarding and its revocation reports) and access reviews."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db import models
from django.utils import timezone

from linewatch.core.models import Area, Asset, Line, Person, Site
from linewatch.workforce import choices


class WorkOrder(models.Model):
    """A maintenance work order or permit from the CMMS: the reason a technician is on site."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="work_orders")
    key = models.SlugField(max_length=64, help_text="CMMS id, e.g. WO-2026-1042")
    title = models.CharField(max_length=300)
    status = models.CharField(max_length=16, choices=choices.WorkOrderStatus.choices)
    assignee = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="work_orders")
    approved_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="approved_work_orders"
    )
    line = models.ForeignKey(Line, null=True, blank=True, on_delete=models.SET_NULL, related_name="work_orders")
    assets = models.ManyToManyField(Asset, blank=True, related_name="work_orders")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["site", "key"]
        constraints = [models.UniqueConstraint(fields=["site", "key"], name="work_order_unique_key")]

    def __str__(self) -> str:
        return f"{self.key}: {self.title}"


class Authorisation(models.Model):
    """Access for a person to an area, within a validity and an optional weekly schedule (RRULE)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="authorisations")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="authorisations")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="authorisations")
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    schedule = models.CharField(max_length=300, blank=True, help_text="RFC 5545 RRULE in the site's time zone")
    granted_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="granted_authorisations"
    )
    reason = models.CharField(max_length=300, blank=True)
    work_order = models.ForeignKey(
        WorkOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="authorisations"
    )
    # Revocation marks an authorisation instead of deleting it: the revocation report re-reads it
    # as proof, and `valid_to` is cut to the revocation time so every reader of validity agrees.
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["site", "person", "area"]
        constraints = [models.UniqueConstraint(fields=["person", "area"], name="authorisation_unique_area")]

    def __str__(self) -> str:
        return f"{self.person} → {self.area}"


class Credential(models.Model):
    """Something a person proves identity with: a badge (with its issue code and the badge it
    replaces), a PIN, or a logical account on AD, an HMI, an EWS or a remote-access gateway.

    `site` is empty for organisation-wide credentials (most badges and directory accounts).
    A decoy (honeytoken) credential belongs to nobody and must never be used."""

    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE, related_name="credentials")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.CASCADE, related_name="credentials")
    kind = models.CharField(max_length=16, choices=choices.CredentialKind.choices)
    system = models.CharField(max_length=100, blank=True, help_text="PACS, directory or host that knows it")
    identifier = models.CharField(max_length=200, help_text="card number or account name")
    issue_code = models.PositiveIntegerField(default=0)
    facility_code = models.CharField(max_length=32, blank=True)
    replaces = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_by")
    status = models.CharField(max_length=16, choices=choices.CredentialStatus.choices,
                              default=choices.CredentialStatus.ACTIVE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(max_length=300, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    is_decoy = models.BooleanField(default=False)
    # kept by the pipeline detector (at most daily, without audit noise): dormancy survives restarts
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "identifier", "issue_code"]
        constraints = [models.UniqueConstraint(fields=["kind", "system", "identifier", "issue_code"],
                                               name="credential_unique_identifier")]

    def __str__(self) -> str:
        issue = f" #{self.issue_code}" if self.issue_code else ""
        return f"{self.get_kind_display()} {self.identifier}{issue}"


class Training(models.Model):
    """A completed training or certification, with its expiry."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="trainings")
    kind = models.CharField(max_length=32, choices=choices.TrainingKind.choices)
    completed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    issuer = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["person", "kind", "-completed_on"]

    def __str__(self) -> str:
        return f"{self.person}: {self.get_kind_display()}"


class ZoneRequirement(models.Model):
    """A training an area requires of everyone who enters it."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="training_requirements")
    kind = models.CharField(max_length=32, choices=choices.TrainingKind.choices)

    class Meta:
        ordering = ["area", "kind"]
        constraints = [models.UniqueConstraint(fields=["area", "kind"], name="zone_requirement_unique")]

    def __str__(self) -> str:
        return f"{self.area}: {self.get_kind_display()}"


class Visit(models.Model):
    """A visitor's visit: who hosts them, why, until when, and whether they need an escort."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="visits")
    visitor = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="visits")
    host = models.ForeignKey(Person, null=True, on_delete=models.SET_NULL, related_name="hosted_visits")
    escort = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="escorted_visits")
    purpose = models.CharField(max_length=300)
    escort_required = models.BooleanField(default=True)
    expected_start = models.DateTimeField()
    expected_end = models.DateTimeField()
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=choices.VisitStatus.choices, default=choices.VisitStatus.EXPECTED)
    # the visitor flow (workforce.visits): registration, the kiosk check-in and its acknowledgements
    code = models.SlugField(max_length=32, unique=True, null=True, blank=True, help_text="badge and QR code")
    company = models.CharField(max_length=200, blank=True)
    areas = models.ManyToManyField(Area, blank=True, related_name="visits")
    registered_at = models.DateTimeField(null=True, blank=True)
    registered_by = models.CharField(max_length=150, blank=True)
    # only the document type and its last characters: enough to re-check, too little to misuse
    id_document = models.CharField(max_length=16, blank=True, choices=choices.IdDocument.choices)
    id_last_digits = models.CharField(max_length=6, blank=True)
    checked_in_by = models.CharField(max_length=150, blank=True)
    nda_accepted_at = models.DateTimeField(null=True, blank=True)
    safety_accepted_at = models.DateTimeField(null=True, blank=True)
    host_notified_at = models.DateTimeField(null=True, blank=True)
    badge = models.ForeignKey(Credential, null=True, blank=True, on_delete=models.SET_NULL, related_name="visits")
    expired_at = models.DateTimeField(null=True, blank=True)
    watchlist_hits = models.JSONField(default=list, blank=True, help_text="watchlist matches at registration")

    class Meta:
        ordering = ["-expected_start"]

    def __str__(self) -> str:
        return f"{self.visitor} visiting {self.host} ({self.purpose})"


class PlantCalendar(models.Model):
    """The public holidays a site keeps (the `holidays` package's country and subdivision)."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="plant_calendar")
    country = models.CharField(max_length=8, help_text="ISO 3166-1 alpha-2, e.g. DE")
    subdivision = models.CharField(max_length=16, blank=True, help_text="e.g. NW for North Rhine-Westphalia")

    def __str__(self) -> str:
        return f"{self.site}: {self.country}{'-' + self.subdivision if self.subdivision else ''}"


class PlantHoliday(models.Model):
    """A site-specific day off (plant shutdown, works holiday) on top of the public holidays, or,
    with `closed` off, a public holiday the plant works (a removed day)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="plant_holidays")
    date = models.DateField()
    name = models.CharField(max_length=200)
    closed = models.BooleanField(default=True, help_text="off: the plant works this public holiday")

    class Meta:
        ordering = ["site", "date"]
        constraints = [models.UniqueConstraint(fields=["site", "date"], name="plant_holiday_unique_date")]

    def __str__(self) -> str:
        return f"{self.site} {self.date}: {self.name}"


class PersonState(models.Model):
    """Where a person is in their lifecycle; offboarding ends it."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="workforce_state")
    status = models.CharField(max_length=16, choices=choices.PersonStatus.choices, default=choices.PersonStatus.ACTIVE)
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.CharField(max_length=150, blank=True)
    reason = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.person}: {self.status}"


class RevocationReport(models.Model):
    """What an offboarding revoked, where, when and by whom, and the re-query that proves it."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="revocation_reports")
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    reason = models.CharField(max_length=300, blank=True)
    items = models.JSONField(default=list)
    proof = models.JSONField(default=dict)
    proven = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"revocation of {self.person} at {self.created_at:%Y-%m-%d %H:%M}"


class ReviewCampaign(models.Model):
    """An access review: every grant at a site goes to its sponsor or zone owner by a deadline;
    with `auto_revoke`, grants nobody confirmed are revoked when the deadline passes."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="review_campaigns")
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True)
    deadline = models.DateTimeField()
    auto_revoke = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=choices.CampaignStatus.choices,
                              default=choices.CampaignStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0, help_text="reminder rounds sent to reviewers")
    escalated_at = models.DateTimeField(null=True, blank=True, help_text="pending items sent to the zone owners")

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["site", "slug"], name="review_campaign_unique_slug")]

    def __str__(self) -> str:
        return f"{self.site}: {self.name}"


class ReviewItem(models.Model):
    """One grant to confirm or revoke in a campaign."""

    campaign = models.ForeignKey(ReviewCampaign, on_delete=models.CASCADE, related_name="items")
    authorisation = models.ForeignKey(Authorisation, null=True, on_delete=models.SET_NULL, related_name="reviews")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="access_reviews")
    reviewer = models.ForeignKey(Person, null=True, on_delete=models.SET_NULL, related_name="reviews_to_do")
    summary = models.CharField(max_length=300)
    decision = models.CharField(max_length=16, choices=choices.ReviewDecision.choices,
                                default=choices.ReviewDecision.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["campaign", "person"]

    def __str__(self) -> str:
        return self.summary


class ZoneOwner(models.Model):
    """A person who answers for an area and approves its grants (with the grantee's sponsor): a
    grant approved by anyone else is outside the process (wf-privilege-outside-process)."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="owners")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="owned_zones")

    class Meta:
        ordering = ["area", "person"]
        constraints = [models.UniqueConstraint(fields=["area", "person"], name="zone_owner_unique")]

    def __str__(self) -> str:
        return f"{self.area}: {self.person}"


class WatchlistEntry(models.Model):
    """Someone not to let in unchallenged: matched fuzzily against visitors at registration and
    sign-in (engine.watchlist). `aliases` is one name per line.

    `site` empty: the entry applies at every site of the organisation; set, only there (a plant's
    own ban, which that plant's people may manage and other plants do not see). From the day after
    `expires_on` the entry no longer matches (a time-limited ban ends without anyone retiring it)."""

    organisation = models.ForeignKey("core.Organisation", on_delete=models.CASCADE, related_name="watchlist")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.CASCADE, related_name="watchlist",
                             help_text="empty: every site of the organisation")
    name = models.CharField(max_length=200)
    aliases = models.TextField(blank=True)
    company = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=300)
    source = models.CharField(max_length=200, blank=True, help_text="where it comes from, e.g. HR, police notice")
    expires_on = models.DateField(null=True, blank=True, help_text="last day it applies; empty: until retired")
    banned = models.BooleanField(default=False, help_text="critical: never admit")
    active = models.BooleanField(default=True)
    added_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "watchlist entries"

    def __str__(self) -> str:
        return self.name

    def expired(self, on: dt.date | None = None) -> bool:
        """Past its last day on `on` (default: today, on the entry's site's clock when it has one)."""
        if self.expires_on is None:
            return False
        if on is None:
            tz = zoneinfo.ZoneInfo(self.site.timezone) if self.site_id else dt.UTC
            on = timezone.now().astimezone(tz).date()
        return on > self.expires_on

    @property
    def is_expired(self) -> bool:
        return self.expired()
