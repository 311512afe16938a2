"""The demo's discovery data: passive discovery of the Kolding plant capture (`demo_capture`), reconciled into
the inventory — matched assets, three shadow devices, one firmware drift and the posture findings.

Idempotent: reconciliation upserts by device key and observation, so a second `linewatch demo` adds nothing.
"""

from __future__ import annotations

from linewatch.core.models import Site

SITE = "kolding"


def load() -> list[str]:
    from linewatch.discovery.demo_capture import CAPTURE
    from linewatch.discovery.engine import Discovery
    from linewatch.discovery.models import DeviceStatus, DiscoveredDevice, FindingStatus, PostureFinding
    from linewatch.discovery.services import newest_known_firmware, reconcile

    site = Site.objects.filter(slug=SITE).first()
    if site is None or not CAPTURE.exists():
        return [f"Discovery: no {SITE} site or no demo capture, skipped"]
    disc = Discovery()
    disc.known_newest = newest_known_firmware()
    if not disc.add_file(CAPTURE, name=CAPTURE.name):
        return [f"Discovery: demo capture unreadable: {disc.errors[0]}"]
    reconcile(site, disc)
    devices = DiscoveredDevice.objects.filter(site=site)
    shadow = list(devices.filter(status=DeviceStatus.SHADOW).order_by("ip"))
    drifted = [d for d in devices.exclude(drift=[]).select_related("asset").order_by("key")]
    findings = PostureFinding.objects.filter(device__site=site, status=FindingStatus.OPEN)
    lines = [f"Discovery: {devices.count()} devices seen at {SITE} ({disc.stats.packets:,} packets, "
             f"{devices.filter(status=DeviceStatus.MATCHED).count()} matched to assets), {len(shadow)} shadow, "
             f"{sum(len(d.drift) for d in drifted)} drift, {findings.count()} open posture findings"]
    for d in shadow:
        what = " ".join(x for x in (d.vendor, d.model or d.kind, d.hostname and f"'{d.hostname}'") if x)
        lines.append(f"  shadow {d.ip} ({d.mac}): {what}")
    for d in drifted:
        for x in d.drift:
            lines.append(f"  drift {d.asset.name}: {x['attribute']} {x['intended']} in the model, {x['observed']} "
                         "on the wire")
    return lines
