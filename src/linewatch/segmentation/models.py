"""Segmentation: database models.

`FirewallConfig` keeps each firewall configuration loaded for a site (`linewatch segmentation load`): the text as
loaded, its digest and detected format, who loaded it when, and what the parser reported as not understood. The
newest version per (asset, file name) is current; older ones stay for the record (and for differential checks).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from linewatch.core.models import Asset, Site


class FirewallConfig(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="firewall_configs")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="firewall_configs",
                              help_text="The firewall or router asset this configuration runs on")
    file_name = models.CharField(max_length=255, help_text="The name of the file as loaded (no directory)")
    text = models.TextField()
    digest = models.CharField(max_length=64, help_text="SHA-256 of the text")
    format = models.CharField(max_length=32, help_text="Parser used: iptables, nftables, nft-json, cisco-ios, ...")
    loaded_at = models.DateTimeField(default=timezone.now)
    loaded_by = models.CharField(max_length=150, blank=True)
    loaded_by_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    unsupported = models.JSONField(default=list, blank=True,
                                   help_text="Constructs not understood: [{file, line, text, why}]")
    blocking = models.PositiveIntegerField(default=0, help_text="How many of them make every answer through the "
                                                                "device insufficient information")
    current = models.BooleanField(default=True, help_text="The newest version of this file for this asset")

    class Meta:
        ordering = ["site", "asset__name", "file_name", "-loaded_at"]
        indexes = [models.Index(fields=["site", "current"])]
        constraints = [models.UniqueConstraint(fields=["asset", "file_name", "digest"],
                                               name="segmentation_config_version_once")]

    def __str__(self) -> str:
        return f"{self.asset.name}: {self.file_name} ({self.format}, {self.digest[:12]})"
