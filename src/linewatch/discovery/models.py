"""What passive discovery saw, kept apart from the asset record (what is intended).

A `DiscoveredDevice` is one device on the wire at a site (keyed by its MAC, else its IP), with its
best current attributes and its reconciliation state; every attribute it has comes from
`Observation` rows that keep their provenance (protocol and message, file, packet, time, confidence).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from linewatch.core.models import Asset, Site


class DeviceStatus(models.TextChoices):
    DISCOVERED = "discovered", "Discovered"  # seen, not yet reconciled (no site model to compare with)
    MATCHED = "matched", "Matched"  # the same as an asset of the model
    CMDB = "cmdb", "In the CMDB only"  # not in the plant model, but a CMDB record has it: known, not shadow
    SHADOW = "shadow", "Shadow device"  # on the wire, absent from the model and from the CMDB
    PROMOTED = "promoted", "Promoted"  # a reviewer made an asset of it
    DISMISSED = "dismissed", "Dismissed"  # a reviewer decided it needs no asset


class DiscoveredDevice(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="discovered_devices")
    key = models.CharField(max_length=64, help_text="MAC (lower-case, colon separated), else IP address")
    ip = models.GenericIPAddressField(null=True, blank=True)
    mac = models.CharField(max_length=17, blank=True)
    vendor = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=32, blank=True)
    kind_reason = models.CharField(max_length=300, blank=True)
    model = models.CharField(max_length=200, blank=True)
    firmware = models.CharField(max_length=200, blank=True)
    serial = models.CharField(max_length=200, blank=True)
    hostname = models.CharField(max_length=200, blank=True)
    protocols = models.JSONField(default=dict, blank=True, help_text="protocol -> roles (client, server, peer)")
    findings = models.JSONField(default=list, blank=True, help_text="posture findings of the engine")
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=DeviceStatus.choices, default=DeviceStatus.DISCOVERED)
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="discovered_devices")
    cmdb_record = models.ForeignKey("CmdbRecord", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="devices")
    match_reason = models.CharField(max_length=300, blank=True)
    drift = models.JSONField(default=list, blank=True, help_text="[{attribute, intended, observed}] at the last run")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site", "key"]
        constraints = [models.UniqueConstraint(fields=["site", "key"], name="discovered_device_unique_key")]
        indexes = [models.Index(fields=["site", "status"])]

    def __str__(self) -> str:
        return f"{self.site.slug}/{self.key}" if self.site_id else self.key

    @property
    def label(self) -> str:
        return self.hostname or self.ip or self.mac or self.key


class Observation(models.Model):
    """One attribute value seen on the wire, with where it was seen."""

    device = models.ForeignKey(DiscoveredDevice, on_delete=models.CASCADE, related_name="observations")
    attribute = models.CharField(max_length=64)
    value = models.CharField(max_length=500)
    source = models.CharField(max_length=100, help_text="protocol/message, e.g. enip/ListIdentity")
    file = models.CharField(max_length=300, blank=True)
    packet = models.PositiveIntegerField(default=0)
    time = models.DateTimeField(null=True, blank=True)
    confidence = models.FloatField(default=0.0)

    class Meta:
        ordering = ["device", "attribute", "-confidence", "id"]
        constraints = [
            models.UniqueConstraint(fields=["device", "attribute", "value", "source"], name="observation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.attribute}={self.value} ({self.source})"


class CmdbRecord(models.Model):
    """One row of a CMDB export imported for a site: what the organisation believes it owns.

    Not an asset of the plant model and not an observation: a second register that keeps a device
    matching it from being called a shadow device. Re-importing a file replaces its rows."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="cmdb_records")
    source = models.CharField(max_length=300, help_text="file name of the export")
    line = models.PositiveIntegerField()
    name = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    mac = models.CharField(max_length=17, blank=True)
    hostname = models.CharField(max_length=200, blank=True)
    serial = models.CharField(max_length=200, blank=True)
    vendor = models.CharField(max_length=200, blank=True)
    model = models.CharField(max_length=200, blank=True)
    firmware = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=64, blank=True)
    owner = models.CharField(max_length=200, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    imported = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["site", "source", "line"]
        constraints = [models.UniqueConstraint(fields=["site", "source", "line"], name="cmdb_record_unique_line")]

    def __str__(self) -> str:
        return f"{self.source}:{self.line} {self.name or self.hostname or self.ip or self.mac}"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    VERIFIED = "verified", "Verified as fixed"  # e.g. the default password was checked and changed
    ACCEPTED = "accepted", "Risk accepted"
    GONE = "gone", "No longer seen"  # the last run did not find it again


class PostureFinding(models.Model):
    """A posture finding on a discovered device (engine.posture), with its evidence and a review state
    later runs keep: a default credential stays a finding until someone verifies it was changed."""

    device = models.ForeignKey(DiscoveredDevice, on_delete=models.CASCADE, related_name="posture_findings")
    check_name = models.CharField(max_length=64, help_text="engine.posture check, e.g. default-credentials")
    severity = models.CharField(max_length=8)
    title = models.CharField(max_length=500)
    evidence = models.TextField(blank=True)
    source = models.CharField(max_length=100, blank=True)
    file = models.CharField(max_length=300, blank=True)
    packet = models.PositiveIntegerField(default=0)
    time = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    note = models.TextField(blank=True)
    first_found = models.DateTimeField(auto_now_add=True)
    last_found = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["device", "severity", "check_name", "id"]
        constraints = [models.UniqueConstraint(fields=["device", "check_name", "title"], name="posture_finding_unique")]

    def __str__(self) -> str:
        return f"{self.device}: {self.title}"


class Conversation(models.Model):
    """One talker seen at a site: who speaks to whom on which service (client -> server:port/transport), with
    counts and first/last seen. Kept so flow conformance (segmentation) can check what the wire showed against the
    declared conduits and the firewall configurations without the capture."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="conversations")
    client = models.GenericIPAddressField()
    server = models.GenericIPAddressField()
    transport = models.CharField(max_length=4, help_text="tcp or udp")
    port = models.PositiveIntegerField(help_text="the server's port")
    service = models.CharField(max_length=32, blank=True)
    packets = models.BigIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)
    flows = models.BigIntegerField(default=0)
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["site", "client", "server", "transport", "port"]
        constraints = [models.UniqueConstraint(fields=["site", "client", "server", "transport", "port"],
                                               name="conversation_unique_pair")]
        indexes = [models.Index(fields=["site", "last_seen"])]

    def __str__(self) -> str:
        return f"{self.client} -> {self.server}:{self.port}/{self.transport}"
