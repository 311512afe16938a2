"""The event store: every normalized event once, keyed by its deterministic uid."""

from __future__ import annotations

from django.db import models


class StoredEvent(models.Model):
    """`id` orders the store as a log: consumers (detection) keep their position in it."""

    id = models.BigAutoField(primary_key=True)
    uid = models.CharField(max_length=64, unique=True)
    time = models.DateTimeField(db_index=True)
    class_uid = models.IntegerField(db_index=True)
    activity_id = models.IntegerField(default=0)
    site_slug = models.CharField(max_length=50, blank=True, db_index=True)
    source = models.CharField(max_length=50, db_index=True)
    body = models.JSONField(help_text="The whole normalized event")
    received = models.DateTimeField(auto_now_add=True)
    origin = models.CharField(max_length=64, blank=True, default="",
                              help_text="The plant node that recorded it, when it came from one (linewatch.nodes)")

    class Meta:
        ordering = ["-time"]
        indexes = [models.Index(fields=["site_slug", "time"])]

    def __str__(self) -> str:
        return f"{self.source} {self.class_uid} {self.time:%Y-%m-%d %H:%M:%S}"


class ConsumerPosition(models.Model):
    """How far a consumer of the event log has got: moved in the same transaction as its output,
    so a restart resumes exactly where the last committed batch ended."""

    name = models.CharField(max_length=100, primary_key=True)
    position = models.BigIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.position}"
