"""The event store: every normalized event once, keyed by its deterministic uid."""

from __future__ import annotations

from django.db import models


class StoredEvent(models.Model):
    uid = models.CharField(max_length=64, primary_key=True)
    time = models.DateTimeField(db_index=True)
    class_uid = models.IntegerField(db_index=True)
    activity_id = models.IntegerField(default=0)
    site_slug = models.CharField(max_length=50, blank=True, db_index=True)
    source = models.CharField(max_length=50, db_index=True)
    body = models.JSONField(help_text="The whole normalized event")
    received = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-time"]
        indexes = [models.Index(fields=["site_slug", "time"])]

    def __str__(self) -> str:
        return f"{self.source} {self.class_uid} {self.time:%Y-%m-%d %H:%M:%S}"
