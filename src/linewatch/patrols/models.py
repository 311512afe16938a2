"""Patrols: tours with ordered checkpoints and schedules, patrol runs, scans, photos, exceptions and
guard incident reports."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from linewatch.core.models import Area, Site


class CheckpointKind(models.TextChoices):
    QR = "qr", "QR code"
    NFC = "nfc", "NFC tag"
    NFC_SUN = "nfc_sun", "NFC NTAG 424 DNA (SUN)"
    GPS = "gps", "GPS geofence"


class ScanMethod(models.TextChoices):
    QR = "qr", "QR code"
    NFC = "nfc", "NFC tap"
    GPS = "gps", "GPS position"
    MANUAL = "manual", "Code typed in"


class Checkpoint(models.Model):
    """A place a guard must prove being at. QR codes carry a signed token; SUN tags prove a physical tap
    with per-tag AES keys and a rising read counter; GPS checkpoints are a centre and a radius."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="checkpoints")
    code = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=CheckpointKind.choices, default=CheckpointKind.QR)
    area = models.ForeignKey(Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="checkpoints")
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    radius_m = models.FloatField(null=True, blank=True, help_text="Geofence radius; unset: no geofence")
    tag_uid = models.CharField(max_length=14, blank=True, help_text="NFC tag UID (14 hex digits)")
    sdm_meta_key = models.CharField(max_length=32, blank=True, help_text="SUN: SDMMetaRead key (hex)")
    sdm_file_key = models.CharField(max_length=32, blank=True, help_text="SUN: SDMFileRead key (hex)")
    sdm_counter = models.IntegerField(null=True, blank=True, help_text="Highest accepted SUN read counter")

    class Meta:
        unique_together = [("site", "code")]
        ordering = ["site__slug", "code"]

    def __str__(self) -> str:
        return f"{self.site.slug}/{self.code}"


class Tour(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="tours")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    rrule = models.CharField(max_length=300, blank=True, help_text="RFC 5545 RRULE, in the site's time zone")
    starts_on = models.DateField(null=True, blank=True, help_text="First day of the schedule")
    start_time = models.TimeField(null=True, blank=True, help_text="Local wall-clock time of each start")
    walking_speed_mps = models.FloatField(default=2.0)
    active = models.BooleanField(default=True)

    class Meta:
        unique_together = [("site", "slug")]
        ordering = ["site__slug", "slug"]

    def __str__(self) -> str:
        return f"{self.site.slug}/{self.slug}"


class TourStop(models.Model):
    """A checkpoint's place in a tour: its order and time window after the run's start."""

    tour = models.ForeignKey(Tour, on_delete=models.CASCADE, related_name="stops")
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="stops")
    position = models.PositiveIntegerField()
    offset_min = models.PositiveIntegerField(default=0)
    tolerance_min = models.PositiveIntegerField(default=10)

    class Meta:
        unique_together = [("tour", "position")]
        ordering = ["tour", "position"]

    def __str__(self) -> str:
        return f"{self.tour_id}#{self.position}"


class RunStatus(models.TextChoices):
    OPEN = "open", "In progress"
    DONE = "done", "Finished"


class PatrolRun(models.Model):
    uid = models.UUIDField(unique=True, default=uuid.uuid4, help_text="Client-generated, so offline starts sync once")
    tour = models.ForeignKey(Tour, on_delete=models.CASCADE, related_name="runs")
    guard = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="patrol_runs")
    guard_name = models.CharField(max_length=150, help_text="As the badge log names the guard")
    started = models.DateTimeField()
    finished = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.OPEN)
    completion = models.FloatField(default=0.0, help_text="Checkpoints with a verified scan, %")
    finish_uid = models.UUIDField(null=True, blank=True, help_text="Client id of the guard's finish, once")

    class Meta:
        ordering = ["-started"]
        indexes = [models.Index(fields=["tour", "started"])]

    def __str__(self) -> str:
        return f"{self.tour} {self.started:%Y-%m-%d %H:%M}"


class Scan(models.Model):
    uid = models.UUIDField(unique=True, help_text="Client-generated: a re-sent scan is stored once")
    run = models.ForeignKey(PatrolRun, on_delete=models.CASCADE, related_name="scans")
    checkpoint = models.ForeignKey(Checkpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="scans")
    at = models.DateTimeField(help_text="When the guard scanned (device clock)")
    received = models.DateTimeField(auto_now_add=True)
    method = models.CharField(max_length=8, choices=ScanMethod.choices)
    payload = models.TextField(help_text="What was scanned: token, tag URL or typed code, as received")
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    accuracy_m = models.FloatField(null=True, blank=True)
    verified = models.BooleanField(default=False)
    verification = models.CharField(max_length=300, blank=True)
    sun_counter = models.IntegerField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"scan {self.uid}"


class Photo(models.Model):
    """A photo: the bytes live in the data folder under their SHA-256; one row per attachment."""

    uid = models.UUIDField(unique=True)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="patrol_photos")
    scan = models.ForeignKey(Scan, null=True, blank=True, on_delete=models.CASCADE, related_name="photos")
    report = models.ForeignKey("IncidentReport", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="photos")
    guard_name = models.CharField(max_length=150)
    sha256 = models.CharField(max_length=64, db_index=True)
    phash = models.CharField(max_length=16, help_text="64-bit pHash, hex")
    crop_hashes = models.JSONField(default=list, help_text="pHashes of the photo's crops, hex")
    size = models.PositiveIntegerField()
    exif = models.JSONField(default=dict)
    c2pa = models.JSONField(default=dict)
    checks = models.JSONField(default=list, help_text="Problems found: EXIF, duplicate, reuse")
    received = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"photo {self.sha256[:12]}"


class PatrolException(models.Model):
    run = models.ForeignKey(PatrolRun, null=True, blank=True, on_delete=models.CASCADE, related_name="exceptions")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="patrol_exceptions")
    kind = models.CharField(max_length=24, db_index=True)
    checkpoint = models.CharField(max_length=64, blank=True)
    scan = models.ForeignKey(Scan, null=True, blank=True, on_delete=models.SET_NULL, related_name="exceptions")
    photo = models.ForeignKey(Photo, null=True, blank=True, on_delete=models.SET_NULL, related_name="exceptions")
    detail = models.CharField(max_length=400)
    at = models.DateTimeField()
    event_uid = models.CharField(max_length=64, unique=True, help_text="The pipeline event it became")

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.checkpoint}"

    @property
    def label(self) -> str:
        from linewatch.patrols.choices import EXCEPTION_LABELS

        return EXCEPTION_LABELS.get(self.kind, self.kind)


class IncidentReport(models.Model):
    """A guard's standard incident report: what, where, when, who, actions taken, photos."""

    uid = models.UUIDField(unique=True)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="guard_reports")
    guard = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="guard_reports")
    guard_name = models.CharField(max_length=150)
    category = models.CharField(max_length=40)
    what = models.TextField()
    where = models.CharField(max_length=200)
    occurred = models.DateTimeField()
    who = models.TextField(blank=True, help_text="People involved or witnesses")
    actions = models.TextField(blank=True, help_text="What the guard did")
    severity = models.CharField(max_length=10, default="medium")
    reported = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred"]

    def __str__(self) -> str:
        return f"{self.category} at {self.where}"
