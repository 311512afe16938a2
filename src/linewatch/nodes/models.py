"""The outbox of records to forward and the cursors of what was exchanged with each peer."""

from __future__ import annotations

from django.db import models


class OutboxRecord(models.Model):
    """One record this node made, in the order it made them: `seq` counts per (origin, site) from 1 without gaps.

    `kind` names a registered replicator (linewatch.nodes.replication), `key` the record's natural key there
    (an event or alert uid), `body` its whole state at that moment. Later states of the same record are new
    outbox records; the receiver keeps the last one it applies.
    """

    id = models.BigAutoField(primary_key=True)
    origin = models.CharField(max_length=64, help_text="The node that made the record")
    site_slug = models.CharField(max_length=50)
    seq = models.BigIntegerField()
    kind = models.CharField(max_length=40)
    key = models.CharField(max_length=200)
    body = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["origin", "site_slug", "seq"], name="nodes_outbox_seq")]
        indexes = [models.Index(fields=["site_slug", "origin", "seq"])]

    def __str__(self) -> str:
        return f"{self.origin}/{self.site_slug}#{self.seq} {self.kind} {self.key}"


class SiteSequence(models.Model):
    """The last sequence number given per (origin, site): locked while appending so numbers never repeat."""

    origin = models.CharField(max_length=64)
    site_slug = models.CharField(max_length=50)
    last = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["origin", "site_slug"], name="nodes_sequence_once")]

    def __str__(self) -> str:
        return f"{self.origin}/{self.site_slug} at {self.last}"


class Cursor(models.Model):
    """How far an exchange with a peer got, per site and direction.

    On headquarters, `received` cursors hold the last sequence applied from each plant node (a jump is a gap);
    on a plant, `sent` holds what headquarters acknowledged and `received` what it fetched from headquarters.
    """

    class Direction(models.TextChoices):
        SENT = "sent", "Sent to the peer"
        RECEIVED = "received", "Received from the peer"

    peer = models.CharField(max_length=64)
    site_slug = models.CharField(max_length=50)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    last_seq = models.BigIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["peer", "site_slug", "direction"], name="nodes_cursor_once")]

    def __str__(self) -> str:
        return f"{self.direction} {self.peer}/{self.site_slug} at {self.last_seq}"


class WitnessedCheckpoint(models.Model):
    """On headquarters: a plant node's evidence checkpoint it cosigned. The latest per (peer, log) is what the
    next one must extend; `log_key` pins the plant log's public key from its first checkpoint on."""

    peer = models.CharField(max_length=64, help_text="The plant node")
    origin = models.CharField(max_length=200, help_text="The plant's log (its checkpoints' origin line)")
    size = models.PositiveBigIntegerField()
    root_hash = models.CharField(max_length=64)
    note = models.TextField(help_text="The checkpoint with the plant's signature and our cosignature")
    log_key = models.CharField(max_length=400)
    time = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["peer", "origin", "size"], name="nodes_witnessed_once")]

    def __str__(self) -> str:
        return f"{self.peer}: {self.origin} @{self.size}"
