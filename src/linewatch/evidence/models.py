"""Evidence: the database-backed ledger (one append-only log per site), its signed checkpoints, keys, blobs,
RFC 3161 timestamps, partners and what they submitted.

Entries are never updated or deleted by Linewatch: `linewatch.evidence.records.record` is the only writer. The
canonical bytes stored in `Entry.canonical` are the RFC 8785 leaf entry of the site's RFC 9162 Merkle tree, so a
changed row is caught by the leaf hash and by every signed checkpoint that covers it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from linewatch.core.models import Site


class SiteLog(models.Model):
    """The head of one site's log: its size and origin. Appends lock this row (select_for_update), so concurrent
    writers on PostgreSQL take turns; on SQLite the IMMEDIATE transaction serialises them."""

    site = models.OneToOneField(Site, null=True, on_delete=models.SET_NULL, related_name="evidence_log")
    site_slug = models.SlugField(unique=True, help_text="kept when the site is deleted: evidence outlives it")
    origin = models.CharField(max_length=200, unique=True, help_text="the log's name in its checkpoints")
    size = models.PositiveBigIntegerField(default=0)
    checkpoint_every = models.PositiveIntegerField(default=100)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.origin} ({self.size} entries)"


class Entry(models.Model):
    """One evidence record: leaf `seq` of its site's Merkle tree."""

    log = models.ForeignKey(SiteLog, on_delete=models.PROTECT, related_name="entries")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=64, db_index=True, help_text="e.g. alert.raised, patrol.scan")
    time = models.DateTimeField(db_index=True)
    canonical = models.TextField(help_text="RFC 8785 bytes of {kind, site, time, body}: the Merkle leaf entry")
    leaf_hash = models.CharField(max_length=64, help_text="hex SHA-256(0x00 ‖ canonical)")
    recorded = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["log", "seq"]
        constraints = [models.UniqueConstraint(fields=["log", "seq"], name="evidence_entry_seq_once")]
        indexes = [models.Index(fields=["log", "time"]), models.Index(fields=["log", "kind"])]
        verbose_name_plural = "entries"

    def __str__(self) -> str:
        return f"{self.log.origin}#{self.seq} {self.kind}"

    @property
    def record(self) -> dict:
        import json

        return json.loads(self.canonical)

    @property
    def body(self) -> dict:
        return self.record["body"]


class KeyRole(models.TextChoices):
    LOG = "log", "site log"
    WITNESS = "witness", "headquarters witness"
    PARTNER = "partner", "partner (registered verifier key)"


class SigningKey(models.Model):
    """A public key (C2SP vkey). The private half of our own keys lives in the data folder (evidence/keys/), never
    in the database; partner keys have no private half here."""

    name = models.CharField(max_length=200)
    vkey = models.CharField(max_length=400, unique=True)
    role = models.CharField(max_length=16, choices=KeyRole.choices)
    log = models.ForeignKey(SiteLog, null=True, blank=True, on_delete=models.PROTECT, related_name="keys")
    partner = models.ForeignKey("Partner", null=True, blank=True, on_delete=models.CASCADE, related_name="keys")
    created = models.DateTimeField(auto_now_add=True)
    retired = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.vkey


class Checkpoint(models.Model):
    """A signed checkpoint of the first `size` entries of a log (a C2SP signed note, with any cosignatures)."""

    log = models.ForeignKey(SiteLog, on_delete=models.PROTECT, related_name="checkpoints")
    size = models.PositiveBigIntegerField()
    root_hash = models.CharField(max_length=64, help_text="hex")
    note = models.TextField(help_text="the signed note, log signature first, then witness cosignatures")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["log", "size"]
        constraints = [models.UniqueConstraint(fields=["log", "size"], name="evidence_checkpoint_size_once")]

    def __str__(self) -> str:
        return f"{self.log.origin} @{self.size}"


class Cosignature(models.Model):
    """A witness (headquarters) cosigned a checkpoint after checking it extends the last one it cosigned."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="cosignatures")
    witness = models.CharField(max_length=200, help_text="the witness key's name")
    time = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["checkpoint", "witness"], name="evidence_cosign_once")]

    def __str__(self) -> str:
        return f"{self.witness} cosigned {self.checkpoint}"


class Timestamp(models.Model):
    """An RFC 3161 time-stamp token over a checkpoint note, from a time-stamping authority."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="timestamps")
    tsa = models.CharField(max_length=200)
    token = models.BinaryField(help_text="DER TimeStampResp")
    gen_time = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.checkpoint} time-stamped by {self.tsa} at {self.gen_time:%Y-%m-%d %H:%M:%S}"


class Blob(models.Model):
    """A content-addressed file (a patrol photo, an attachment); the bytes live in the data folder under
    evidence/blobs/<first 2 hex>/<sha256>. Records reference blobs as {"sha256": "<hex>", ...} in their body."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.PositiveBigIntegerField()
    media_type = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.sha256[:12]}… ({self.size} B)"


class PartnerKind(models.TextChoices):
    CONTRACT_MANUFACTURER = "contract-manufacturer", "contract manufacturer"
    THREE_PL = "3pl", "3PL warehouse"
    GUARD_CONTRACTOR = "guard-contractor", "guard contractor"


class Partner(models.Model):
    """A third party whose facility or service we depend on, and who reports evidence to us."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=PartnerKind.choices)
    sites = models.ManyToManyField(Site, blank=True, related_name="partners", help_text="sites the partner serves")
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class PartnerToken(models.Model):
    """A bearer token that can only submit for its partner. Only its SHA-256 digest is stored."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.partner}: {self.name} ({self.prefix}…)"


class SubmissionKind(models.TextChoices):
    PACK = "pack", "evidence pack"
    INCIDENT = "incident", "incident report"


class Submission(models.Model):
    """A pack or incident report a partner submitted, and what verifying it found."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="submissions")
    kind = models.CharField(max_length=16, choices=SubmissionKind.choices)
    received = models.DateTimeField(db_index=True)
    submitted_by = models.CharField(max_length=150, blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    filename = models.CharField(max_length=200, blank=True)
    verified = models.BooleanField(default=False)
    result = models.JSONField(default=dict, help_text="the verifier's report, or the incident report's checks")
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    incident = models.JSONField(null=True, blank=True, help_text="the incident report, for incident submissions")
    incident_open = models.BooleanField(default=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-received", "-id"]

    def __str__(self) -> str:
        return f"{self.partner} {self.kind} {self.received:%Y-%m-%d %H:%M} {'verified' if self.verified else 'FAILED'}"
