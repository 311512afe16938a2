"""Vulnerability knowledge imported from offline feeds, and the findings it gives on the inventory.

Feed rows keep the engine's record (`record`, the msgspec Struct as JSON) next to the columns queries need, so
the matcher reads exactly what the reader produced (`services.feed_store()`), and a re-import compares records
with the engine's one merge rule (`engine.store.merge`): re-importing updates, never duplicates.

A `Finding` is one subject (a plant-model asset, or a discovered device that no asset stands for) × one CVE,
with its confidence tier, evidence and risk parts. Matching again refreshes the evidence and risk but keeps
the status a person set (accepted, mitigated, false positive), with who and why; status changes are audited.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from linewatch.core.models import Asset, Site
from linewatch.discovery.models import DiscoveredDevice


class Vulnerability(models.Model):
    """One CVE as NVD describes it."""

    cve = models.CharField(max_length=32, unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=40, blank=True, help_text="NVD vulnStatus")
    last_modified = models.CharField(max_length=40, blank=True)
    cvss = models.FloatField(null=True, blank=True, help_text="base score of the preferred CVSS metric")
    cvss_kind = models.CharField(max_length=16, blank=True)
    cvss_vector = models.CharField(max_length=200, blank=True)
    cwes = models.JSONField(default=list, blank=True)
    configurations = models.JSONField(default=list, blank=True, help_text="NVD configurations (cpeMatch nodes)")
    record = models.JSONField(help_text="the engine's NvdRecord")
    source = models.CharField(max_length=500, blank=True, help_text="file it was last imported from")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cve"]
        verbose_name_plural = "vulnerabilities"

    def __str__(self) -> str:
        return self.cve


class Advisory(models.Model):
    """A CSAF 2.0 advisory (CISA ICS or a vendor's) with the product tree entries it names."""

    advisory_id = models.CharField(max_length=100, unique=True)
    title = models.CharField(max_length=500, blank=True)
    release_date = models.CharField(max_length=40, blank=True)
    version = models.CharField(max_length=40, blank=True)
    products = models.JSONField(default=list, blank=True, help_text="product tree leaves the advisory's "
                                                                    "vulnerabilities name")
    source = models.CharField(max_length=500, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["advisory_id"]
        verbose_name_plural = "advisories"

    def __str__(self) -> str:
        return self.advisory_id


class AdvisoryVulnerability(models.Model):
    """What one advisory says about one CVE: product statuses, remediations, scores."""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="vulnerabilities")
    cve = models.CharField(max_length=32, db_index=True)
    record = models.JSONField(help_text="the engine's CsafFinding")

    class Meta:
        ordering = ["advisory", "cve"]
        constraints = [models.UniqueConstraint(fields=["advisory", "cve"], name="advisory_cve_unique")]

    def __str__(self) -> str:
        return f"{self.advisory_id}:{self.cve}"


class KevEntry(models.Model):
    """A CISA Known Exploited Vulnerabilities catalogue entry."""

    cve = models.CharField(max_length=32, unique=True)
    vendor_project = models.CharField(max_length=200, blank=True)
    product = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=500, blank=True)
    date_added = models.CharField(max_length=20, blank=True)
    due_date = models.CharField(max_length=20, blank=True)
    ransomware = models.BooleanField(default=False)
    record = models.JSONField(help_text="the engine's KevEntry")
    source = models.CharField(max_length=500, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cve"]
        verbose_name = "KEV entry"
        verbose_name_plural = "KEV entries"

    def __str__(self) -> str:
        return self.cve


class EpssScore(models.Model):
    """FIRST EPSS: probability of exploitation activity in the next 30 days, and its percentile."""

    cve = models.CharField(max_length=32, unique=True)
    epss = models.FloatField()
    percentile = models.FloatField()
    score_date = models.CharField(max_length=40, blank=True)
    record = models.JSONField(help_text="the engine's EpssScore")
    source = models.CharField(max_length=500, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cve"]

    def __str__(self) -> str:
        return f"{self.cve} {self.epss:.3f}"


class FeedImport(models.Model):
    """One file imported by `linewatch feeds import`: what it held and what it changed."""

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    file = models.CharField(max_length=500)
    digest = models.CharField(max_length=64, help_text="SHA-256 of the file's bytes")
    kind = models.CharField(max_length=8, blank=True, help_text="nvd, kev, csaf or epss")
    records = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[{source, place, message}] of broken records")
    actor = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-time", "-id"]

    def __str__(self) -> str:
        return f"{self.file} ({self.kind}, {self.records})"


class Confidence(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    PROBABLE = "probable", "Probable"
    POSSIBLE = "possible", "Possible"


CONFIDENCE_RANK = {Confidence.CONFIRMED: 3, Confidence.PROBABLE: 2, Confidence.POSSIBLE: 1}


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Risk accepted"
    MITIGATED = "mitigated", "Mitigated"
    FALSE_POSITIVE = "false_positive", "False positive"


class Finding(models.Model):
    """One subject (asset, or discovered device without an asset) × one CVE, from the last matching run."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="vuln_findings")
    subject = models.CharField(max_length=100, help_text="asset:<name> or device:<key>; unique within the site")
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.CASCADE, related_name="vuln_findings")
    device = models.ForeignKey(DiscoveredDevice, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="vuln_findings", help_text="the device on the wire, when seen")
    cve = models.CharField(max_length=32, db_index=True)
    advisories = models.JSONField(default=list, blank=True, help_text="CSAF advisory ids among the evidence")
    title = models.CharField(max_length=500, blank=True)
    confidence = models.CharField(max_length=12, choices=Confidence.choices)
    confidence_rank = models.PositiveSmallIntegerField(default=0)
    evidence = models.JSONField(default=list, help_text="[{feed, record, locator, detail, device_attribute, "
                                                         "provenance, confidence, reason}]")
    notes = models.JSONField(default=list, blank=True)
    remediations = models.JSONField(default=list, blank=True)
    attributes = models.JSONField(default=dict, blank=True, help_text="vendor/model/firmware used, with provenance")
    kev = models.BooleanField(default=False)
    ransomware = models.BooleanField(default=False)
    epss = models.FloatField(null=True, blank=True)
    epss_percentile = models.FloatField(null=True, blank=True)
    cvss = models.FloatField(null=True, blank=True)
    exposure = models.CharField(max_length=300, blank=True)
    exposure_band = models.PositiveSmallIntegerField(default=0, help_text="3 Internet, 2 IT, 1 L3+, 0 control")
    exposure_method = models.CharField(max_length=16, blank=True, help_text="segmentation, purdue or unknown")
    consequence_per_hour = models.FloatField(null=True, blank=True)
    consequence = models.JSONField(default=dict, blank=True, help_text="lines stopped/weakened, safety")
    risk_score = models.PositiveIntegerField(default=0, db_index=True, help_text="priority code: exploitation, "
                                             "EPSS band, CVSS band, exposure band (one digit each)")
    risk_parts = models.JSONField(default=dict, blank=True, help_text="exploitability, exposure, consequence")
    risk_explanation = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    status_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    status_by_name = models.CharField(max_length=150, blank=True)
    status_reason = models.TextField(blank=True)
    status_changed = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True, help_text="still matched by the last run")
    first_seen = models.DateTimeField(auto_now_add=True)
    last_matched = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-risk_score", "-consequence_per_hour", "-confidence_rank", "-epss", "-cvss", "subject", "cve"]
        constraints = [models.UniqueConstraint(fields=["site", "subject", "cve"], name="vuln_finding_unique")]
        indexes = [models.Index(fields=["site", "status", "active"])]

    def __str__(self) -> str:
        return f"{self.site.slug}/{self.subject}/{self.cve}" if self.site_id else self.cve

    @property
    def subject_kind(self) -> str:
        return self.subject.partition(":")[0]

    @property
    def subject_key(self) -> str:
        return self.subject.partition(":")[2]
