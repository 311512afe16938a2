"""Enrichment: put the plant model's context on each event before detection, so rules can say
"a physical-security device talking to a Purdue level 1 zone" instead of listing addresses.

For each endpoint an event names (`src_endpoint`, `dst_endpoint`, `device`), the asset found by
IP, MAC or host name adds `<endpoint>.asset.{name,kind,domain,zone,purdue_level,criticality,area}`.
An event without a site takes the site of the asset it is about. A door event without a device
gets the door's controller as its device.
"""

from __future__ import annotations

from linewatch.core.services import AssetIndex, AssetRef
from linewatch.events.schema import Event

ENDPOINTS = (
    ("dst_endpoint", ("dst_endpoint.ip", "dst_endpoint.mac", "dst_endpoint.hostname")),
    ("device", ("device.ip", "device.mac", "device.hostname", "device.name")),
    ("src_endpoint", ("src_endpoint.ip", "src_endpoint.mac", "src_endpoint.hostname")),
)


def _describe(prefix: str, ref: AssetRef) -> dict[str, str]:
    return {
        f"{prefix}.asset.name": ref.name, f"{prefix}.asset.kind": ref.kind, f"{prefix}.asset.domain": ref.domain,
        f"{prefix}.asset.zone": ref.zone, f"{prefix}.asset.purdue_level": ref.purdue_level,
        f"{prefix}.asset.criticality": ref.criticality, f"{prefix}.asset.area": ref.area,
        f"{prefix}.asset.site": ref.site,
    }


def enrich(event: Event, index: AssetIndex) -> Event:
    attrs = event.attrs
    for prefix, paths in ENDPOINTS:
        for path in paths:
            value = attrs.get(path)
            if value is None:
                continue
            ref = index.lookup(value, event.site)
            if ref is not None:
                attrs.update(_describe(prefix, ref))
                if not event.site:
                    event.site = ref.site
                break
    door = attrs.get("door.name")
    if door and "device.asset.name" not in attrs:
        ref = index.by_door.get((event.site, door))
        if ref is not None:
            attrs.update(_describe("device", ref))
    return event
