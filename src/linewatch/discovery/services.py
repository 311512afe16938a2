"""Reconciliation of what discovery saw into the inventory, and the reviewer's decisions.

`reconcile(site, result)` takes the engine's result for one site (a `Discovery`, its devices, or the
JSON document `Discovery.document()` / `linewatch discover --json` prints) and:

- upserts one `DiscoveredDevice` per device (key: MAC, else IP) and its `Observation`s with their
  provenance — idempotently: the same capture twice changes nothing;
- matches each device to an asset of the site by MAC, then IP, then hostname (= asset name), then
  serial, and says why (`match_reason`);
- marks a device that matches nothing as a **shadow device**;
- compares a matched device's firmware, model and MAC with the asset record: a difference is
  **drift**, published as a `DEVICE_CONFIG_STATE_CHANGE` (5019) event through the bus, once per
  (device, attribute, intended value, observed value) — the uid is deterministic;
- stores the talkers as `Conversation`s (one per client, server, transport, port), which flow
  conformance (`linewatch segmentation conformance --from-discovery`) checks against the policy.

`promote` makes an asset (with an interface) of a device; `dismiss` records that it needs none.
Both are reviewer decisions that later runs keep.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from linewatch.core import audit
from linewatch.core.choices import AssetKind
from linewatch.core.models import Asset, AuditEntry, Interface, Site
from linewatch.core.services import Owners, OwnershipIndex
from linewatch.discovery.engine.posture import version_key
from linewatch.discovery.engine.sources import CmdbIndex
from linewatch.discovery.models import (
    CmdbRecord,
    Conversation,
    DeviceStatus,
    DiscoveredDevice,
    FindingStatus,
    Observation,
    PostureFinding,
)
from linewatch.errors import InputError
from linewatch.events.schema import Event, EventClass, Severity, event_uid

EVENT_SOURCE = "discovery"
DRIFT_SEVERITY = {"mac": Severity.HIGH, "firmware": Severity.MEDIUM, "model": Severity.LOW}
REVIEWED = (DeviceStatus.PROMOTED, DeviceStatus.DISMISSED)
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


@dataclass
class Summary:
    """What one reconciliation did, device keys per outcome."""

    site: str
    new: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)
    cmdb: list[str] = field(default_factory=list)  # not in the model but in the CMDB: known, not shadow
    external: list[str] = field(default_factory=list)  # Internet addresses seen as peers: not reconciled
    shadow: list[str] = field(default_factory=list)
    reviewed: list[str] = field(default_factory=list)  # promoted / dismissed earlier: left as decided
    drift: list[dict[str, Any]] = field(default_factory=list)  # every drift found in this run
    changed: list[str] = field(default_factory=list)  # devices already stored whose record changed
    observations: int = 0  # new observation rows
    events: int = 0  # drift events the bus took as new
    findings: int = 0  # open posture findings after the run
    new_findings: int = 0  # posture findings not stored before
    conversations: int = 0  # talkers not stored before

    def as_dict(self) -> dict[str, Any]:
        return {
            "site": self.site, "new": self.new, "matched": self.matched, "cmdb": self.cmdb, "shadow": self.shadow,
            "external": self.external,
            "reviewed": self.reviewed, "drift": self.drift, "changed": self.changed,
            "observations": self.observations, "events": self.events, "findings": self.findings,
            "new_findings": self.new_findings, "conversations": self.conversations,
        }


# ------------------------------------------------------------------ normalisation


def norm_mac(value: str | None) -> str:
    mac = (value or "").strip().lower().replace("-", ":")
    return mac if _MAC.match(mac) else ""


def _norm_text(value: str | None) -> str:
    return re.sub(r"[\s_\-]+", "", (value or "").lower())


def _differs(intended: str, observed: str) -> bool:
    """Different enough to be drift: both known, and neither contains the other once case and
    separators are ignored (`V2.9.4` vs `2.9.4`, `S7-1516` vs `S7 1516-3 PN/DP` are not drift)."""
    a, b = _norm_text(intended).lstrip("v"), _norm_text(observed).lstrip("v")
    return bool(a and b) and a not in b and b not in a


def _when(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def device_dicts(result: Any) -> list[dict[str, Any]]:
    """The devices of an engine result as `Device.as_dict()` documents."""
    if hasattr(result, "devices") and callable(result.devices):  # a Discovery
        return [dv.as_dict() for dv in result.devices()]
    if isinstance(result, dict):  # Discovery.document() / `discover --json`
        return list(result.get("devices", []))
    return [dv if isinstance(dv, dict) else dv.as_dict() for dv in result]


def talker_dicts(result: Any) -> list[dict[str, Any]]:
    """The talkers of an engine result as `Talker.as_dict()` documents (none for a bare device list)."""
    if hasattr(result, "talkers") and callable(result.talkers):  # a Discovery
        return [t.as_dict() for t in result.talkers()]
    if isinstance(result, dict):
        return list(result.get("talkers", []))
    return []


def store_conversations(site: Site, talkers: Iterable[dict[str, Any]]) -> int:
    """Upsert the talkers of a run as the site's conversations; returns how many are new.

    First/last seen widen. Counts: a run whose talker starts after the stored last seen is a later
    capture and adds to them; otherwise (the same capture read again, or an overlapping one) the
    larger count stays, so reading one capture twice changes nothing."""
    existing = {(c.client, c.server, c.transport, c.port): c for c in Conversation.objects.filter(site=site)}
    new: list[Conversation] = []
    changed: list[Conversation] = []
    for t in talkers:
        try:
            client, server = str(ipaddress.ip_address(t["client"])), str(ipaddress.ip_address(t["server"]))
        except (KeyError, ValueError):
            continue
        key = (client, server, str(t.get("transport") or "")[:4], int(t.get("port") or 0))
        first, last = _when(t.get("first_seen")), _when(t.get("last_seen"))
        counts = {k: int(t.get(k) or 0) for k in ("packets", "bytes", "flows")}
        c = existing.get(key)
        if c is None:
            c = existing[key] = Conversation(site=site, client=key[0], server=key[1], transport=key[2], port=key[3],
                                             service=_clip(t.get("service"), 32), first_seen=first, last_seen=last,
                                             **counts)
            new.append(c)
            continue
        before = (c.service, c.packets, c.bytes, c.flows, c.first_seen, c.last_seen)
        later = first is not None and c.last_seen is not None and first > c.last_seen
        for k, n in counts.items():
            setattr(c, k, getattr(c, k) + n if later else max(getattr(c, k), n))
        c.service = c.service or _clip(t.get("service"), 32)
        c.first_seen = min(x for x in (c.first_seen, first) if x) if first or c.first_seen else None
        c.last_seen = max(x for x in (c.last_seen, last) if x) if last or c.last_seen else None
        if (c.service, c.packets, c.bytes, c.flows, c.first_seen, c.last_seen) != before:
            changed.append(c)
    Conversation.objects.bulk_create(new, batch_size=1000)
    Conversation.objects.bulk_update(changed, ["service", "packets", "bytes", "flows", "first_seen", "last_seen"],
                                     batch_size=1000)
    return len(new)


# ------------------------------------------------------------------ matching


class SiteAssets:
    """The site's assets by MAC, IP, name and serial, for matching discovered devices."""

    def __init__(self, site: Site) -> None:
        self.by_mac: dict[str, tuple[Asset, Interface]] = {}
        self.by_ip: dict[str, tuple[Asset, Interface]] = {}
        self.by_name: dict[str, Asset] = {}
        self.by_serial: dict[str, Asset] = {}
        self.macs: dict[int, set[str]] = {}
        assets = {a.pk: a for a in Asset.objects.filter(site=site)}
        for asset in assets.values():
            self.by_name[asset.name.lower()] = asset
            if _norm_text(asset.serial):
                self.by_serial.setdefault(_norm_text(asset.serial), asset)
        for iface in Interface.objects.filter(asset__site=site).order_by("asset__name", "name"):
            asset = assets[iface.asset_id]
            iface.asset = asset
            if mac := norm_mac(iface.mac):
                self.by_mac.setdefault(mac, (asset, iface))
                self.macs.setdefault(asset.pk, set()).add(mac)
            if iface.ip:
                self.by_ip.setdefault(str(iface.ip), (asset, iface))

    def match(self, mac: str, ip: str, hostname: str, serial: str) -> tuple[Asset | None, str]:
        if mac and mac in self.by_mac:
            asset, iface = self.by_mac[mac]
            return asset, f"MAC {mac} equals {asset.name}:{iface.name}"
        if ip and ip in self.by_ip:
            asset, iface = self.by_ip[ip]
            return asset, f"IP {ip} equals {asset.name}:{iface.name}"
        name = hostname.lower().split(".")[0] if hostname else ""
        if name and name in self.by_name:
            return self.by_name[name], f"hostname {hostname} equals asset {self.by_name[name].name}"
        if serial and _norm_text(serial) in self.by_serial:
            asset = self.by_serial[_norm_text(serial)]
            return asset, f"serial {serial} equals the serial of {asset.name}"
        return None, ""


class SiteCmdb(CmdbIndex):
    """The site's stored CMDB records (see `engine.sources.CmdbIndex`): a device matching one is known
    to the organisation (not a shadow device) even when the plant model lacks it."""

    def __init__(self, site: Site) -> None:
        super().__init__(CmdbRecord.objects.filter(site=site).order_by("source", "line"))


def newest_known_firmware(sites: Iterable[Site] | None = None) -> dict[tuple[str, str], tuple[str, str]]:
    """(vendor, model) -> (newest firmware, which asset) over the plant model's asset records (every
    site by default: the organisation already runs that version somewhere), for the posture check
    "firmware older than the newest known for that model" (`Discovery.known_newest`)."""
    from linewatch.discovery.engine.posture import _norm

    assets = Asset.objects.exclude(firmware="").exclude(model="").select_related("site")
    if sites is not None:
        assets = assets.filter(site__in=list(sites))
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for a in assets.order_by("site__slug", "name"):
        k = (_norm(a.vendor), _norm(a.model))
        if version_key(a.firmware) and (k not in out or version_key(a.firmware) > version_key(out[k][0])):
            out[k] = (a.firmware, f"asset {a.name} at {a.site.slug}")
    return out


def import_cmdb(site: Site, records: Iterable[Any], source: str) -> tuple[int, int]:
    """Store a CMDB export's records for a site, replacing the rows an earlier import of the same file
    (by name) left; returns (records stored, rows replaced). Records are `engine.sources.CmdbRecord`s."""
    from pathlib import Path

    source = Path(source).name[:300]
    with transaction.atomic():
        old, _ = CmdbRecord.objects.filter(site=site, source=source).delete()
        rows = [CmdbRecord(site=site, source=source, line=r.line, name=r.name[:200], ip=r.ip or None,
                           mac=r.mac, hostname=r.hostname[:200], serial=r.serial[:200], vendor=r.vendor[:200],
                           model=r.model[:200], firmware=r.firmware[:200], kind=r.kind[:64], owner=r.owner[:200],
                           extra=r.extra) for r in records]
        CmdbRecord.objects.bulk_create(rows)
    return len(rows), old


def drift_of(device: DiscoveredDevice, asset: Asset, asset_macs: set[str]) -> list[dict[str, str]]:
    """How the device on the wire differs from its asset record: firmware, model, MAC."""
    found = []
    for attribute in ("firmware", "model"):
        intended, observed = getattr(asset, attribute), getattr(device, attribute)
        if attribute == "firmware" and version_key(intended) and version_key(intended) == version_key(observed):
            continue  # the same numbers written differently: ENIP "33.11" for the model's "33.011"
        if _differs(intended, observed):
            found.append({"attribute": attribute, "intended": intended, "observed": observed})
    if device.mac and asset_macs and device.mac not in asset_macs:
        found.append({"attribute": "mac", "intended": ", ".join(sorted(asset_macs)), "observed": device.mac})
    return found


def drift_event(site: Site, device: DiscoveredDevice, asset: Asset, drift: dict[str, str]) -> Event:
    """A normalized Device Config State Change (5019): the device no longer is what the model says."""
    attribute, intended, observed = drift["attribute"], drift["intended"], drift["observed"]
    when = device.last_seen or timezone.now()
    prov = device.observations.filter(attribute=attribute, value=observed).first() if attribute != "mac" else None
    attrs: dict[str, Any] = {"device.name": asset.name, "device.type": asset.kind}
    if device.ip:
        attrs["device.ip"] = device.ip
    if device.mac:
        attrs["device.mac"] = device.mac
    if device.hostname:
        attrs["device.hostname"] = device.hostname
    if device.vendor:
        attrs["device.vendor_name"] = device.vendor
    return Event(
        uid=event_uid(EVENT_SOURCE, site.slug, device.key, attribute, intended, observed),
        time=int(when.timestamp() * 1000),
        class_uid=EventClass.DEVICE_CONFIG_STATE_CHANGE,
        activity_id=99,  # Other: a drift found by reconciliation
        severity_id=DRIFT_SEVERITY[attribute],
        message=f"{asset.name}: {attribute} on the wire is {observed}, the model says {intended}",
        source=EVENT_SOURCE,
        site=site.slug,
        attrs=attrs,
        unmapped={
            "drift.attribute": attribute, "drift.asset_value": intended, "drift.observed_value": observed,
            "drift.match_reason": device.match_reason, "discovery.key": device.key,
            "discovery.source": prov.source if prov else "", "discovery.file": prov.file if prov else "",
            "discovery.packet": prov.packet if prov else 0,
        },
    )


# ------------------------------------------------------------------ reconcile

FIELDS = ("ip", "mac", "vendor", "kind", "kind_reason", "model", "firmware", "serial", "hostname", "protocols",
          "findings", "first_seen", "last_seen", "status", "asset_id", "cmdb_record_id", "match_reason", "drift")


def _clip(value: Any, size: int = 200) -> str:
    return str(value or "")[:size]


def reconcile(site: Site, result: Any) -> Summary:
    """Bring the engine's result for `site` into the database (see the module docstring)."""
    from linewatch.events.bus import get_bus

    summary = Summary(site.slug)
    index = SiteAssets(site)
    cmdb = SiteCmdb(site)
    existing = {d.key: d for d in DiscoveredDevice.objects.filter(site=site)}
    events: list[Event] = []
    with transaction.atomic():
        for key, (mac, ip, doc) in _by_key(device_dicts(result)).items():
            if ip and ipaddress.ip_address(ip).is_global:
                summary.external.append(ip)  # an Internet address: a talker's peer, not a device of the site
                continue
            device = existing.get(key)
            created = device is None
            if created:
                device = DiscoveredDevice(site=site, key=key)
                summary.new.append(key)
            before = {f: getattr(device, f) for f in FIELDS}
            first, last = _when(doc.get("first_seen")), _when(doc.get("last_seen"))
            device.ip = ip or device.ip
            device.mac = mac or device.mac
            for attr in ("vendor", "model", "firmware", "serial", "hostname"):
                setattr(device, attr, _clip(doc.get(attr)) or getattr(device, attr))
            device.kind = _clip(doc.get("kind"), 32) or device.kind
            device.kind_reason = _clip(doc.get("kind_reason"), 300) or device.kind_reason
            protocols = dict(device.protocols or {})
            for proto, roles in (doc.get("protocols") or {}).items():
                protocols[proto] = sorted(set(protocols.get(proto, [])) | set(roles))
            device.protocols = protocols
            run_findings = _unique_findings(doc.get("findings") or [])
            device.findings = run_findings  # the latest run's; PostureFinding rows keep the history
            device.first_seen = min(t for t in (device.first_seen, first) if t) if first or device.first_seen else None
            device.last_seen = max(t for t in (device.last_seen, last) if t) if last or device.last_seen else None
            asset, reason = index.match(device.mac, device.ip or "", device.hostname, device.serial)
            if device.status in REVIEWED:
                summary.reviewed.append(key)
                if device.status == DeviceStatus.PROMOTED and asset is not None:
                    device.asset, device.match_reason = asset, reason
            elif asset is not None:
                device.status, device.asset, device.match_reason = DeviceStatus.MATCHED, asset, reason
                device.cmdb_record = None
                summary.matched.append(key)
            else:
                record, cmdb_reason = cmdb.match(device.mac, device.ip or "", device.hostname, device.serial)
                device.asset, device.cmdb_record = None, record
                if record is not None:
                    device.status, device.match_reason = DeviceStatus.CMDB, cmdb_reason
                    summary.cmdb.append(key)
                else:
                    device.status, device.match_reason = DeviceStatus.SHADOW, ""
                    summary.shadow.append(key)
            if created:
                device.save()
            new_obs = _observations(device, doc.get("observations") or [], created)
            summary.observations += len(new_obs)
            opened, open_now = _store_findings(device, run_findings, created)
            summary.new_findings += opened
            summary.findings += open_now
            drift: list[dict[str, str]] = []
            if device.asset_id and device.status != DeviceStatus.DISMISSED:
                drift = drift_of(device, device.asset, index.macs.get(device.asset_id, set()))
            old_drift = before["drift"] if not created else []
            device.drift = drift
            for item in drift:
                summary.drift.append({"key": key, "asset": device.asset.name, **item})
                if item not in (old_drift or []):
                    events.append(drift_event(site, device, device.asset, item))
            after = {f: getattr(device, f) for f in FIELDS}
            if created or after != before:
                device.save()
                if not created:
                    summary.changed.append(key)
        summary.conversations = store_conversations(site, talker_dicts(result))
    if events:
        result_ = get_bus().publish(events)
        summary.events = len(getattr(result_, "stored", events))
    return summary


def _by_key(docs: Iterable[dict[str, Any]]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """The documents by device key (MAC, else IP); two with one key (a host's IPv4 and IPv6
    addresses share its MAC) become one: the first non-empty value of each field, IPv4 first,
    observations, protocols and findings together, the widest first/last seen."""
    out: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for doc in docs:
        mac = norm_mac(doc.get("mac"))
        try:
            ip = str(ipaddress.ip_address(doc.get("ip") or ""))
        except ValueError:
            ip = ""
        key = mac or ip or _clip(doc.get("key"), 64)
        if not key:
            continue
        if key not in out:
            out[key] = (mac, ip, dict(doc))
            continue
        _, old_ip, merged = out[key]
        if not old_ip or (":" in old_ip and ip and ":" not in ip):
            old_ip = ip or old_ip
        for name, value in doc.items():
            if name == "observations":
                merged["observations"] = list(merged.get("observations") or []) + list(value or [])
            elif name == "findings":
                merged["findings"] = list(merged.get("findings") or []) + list(value or [])
            elif name == "protocols":
                protocols = {k: list(v) for k, v in (merged.get("protocols") or {}).items()}
                for proto, roles in (value or {}).items():
                    protocols[proto] = sorted(set(protocols.get(proto, [])) | set(roles))
                merged["protocols"] = protocols
            elif name in ("first_seen", "last_seen") and value and merged.get(name):
                pick = min if name == "first_seen" else max
                merged[name] = pick((merged[name], value), key=lambda v: _when(v))
            elif not merged.get(name):
                merged[name] = value
        out[key] = (mac, old_ip, merged)
    return out


def _unique_findings(findings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out, seen = [], set()
    for f in findings:
        k = (f.get("check") or "", f.get("finding") or "")
        if k[1] and k not in seen:
            seen.add(k)
            out.append(f)
    return out


def _store_findings(device: DiscoveredDevice, findings: list[dict[str, Any]], created: bool) -> tuple[int, int]:
    """Upsert the run's posture findings of a device by (check, title): new ones open, ones found again
    reopen if they had gone, reviewed ones (verified, accepted) keep their state; an open finding the
    run did not find again is marked gone. Returns (new findings, open findings)."""
    now = timezone.now()
    stored = {} if created else {(f.check_name, f.title): f for f in device.posture_findings.all()}
    new, seen = [], set()
    for f in findings:
        k = (_clip(f.get("check") or "finding", 64), _clip(f.get("finding"), 500))
        seen.add(k)
        row = stored.get(k)
        if row is None:
            new.append(PostureFinding(
                device=device, check_name=k[0], title=k[1], severity=_clip(f.get("severity") or "info", 8),
                evidence=str(f.get("evidence") or ""), source=_clip(f.get("source"), 100),
                file=_clip(f.get("file"), 300), packet=int(f.get("packet") or 0), time=_when(f.get("time")),
                last_found=now))
        elif row.status == FindingStatus.GONE:
            row.status, row.last_found = FindingStatus.OPEN, now
            row.save(update_fields=["status", "last_found"])
    PostureFinding.objects.bulk_create(new)
    for k, row in stored.items():
        if k not in seen and row.status == FindingStatus.OPEN:
            row.status = FindingStatus.GONE
            row.save(update_fields=["status"])
    open_now = len(new) + sum(1 for k, r in stored.items() if k in seen and r.status == FindingStatus.OPEN)
    return len(new), open_now


def posture_findings(sites: Iterable[Any] | None = None,
                     statuses: Iterable[str] = (FindingStatus.OPEN, FindingStatus.ACCEPTED)) -> list[dict[str, Any]]:
    """The stored posture findings of discovered devices at `sites` (Site objects, slugs or ids; None =
    every site), for the vulnerability risk register: one dict per finding with the device, its asset
    (if matched) and the evidence. Callers apply their own authorisation to the sites they pass."""
    rows = PostureFinding.objects.select_related("device", "device__site", "device__asset").filter(
        status__in=list(statuses))
    if sites is not None:
        sites = list(sites)
        ids = [s.pk for s in sites if isinstance(s, Site)] + [s for s in sites if isinstance(s, int)]
        slugs = [s for s in sites if isinstance(s, str)]
        rows = rows.filter(models.Q(device__site_id__in=ids) | models.Q(device__site__slug__in=slugs))
    out = []
    for f in rows.order_by("device__site__slug", "device__key", "severity", "check_name", "id"):
        dv = f.device
        out.append({
            "id": f.pk, "site": dv.site.slug, "device": dv.key, "device_id": dv.pk, "ip": dv.ip, "mac": dv.mac,
            "status_of_device": dv.status, "asset": dv.asset.name if dv.asset else None,
            "asset_id": dv.asset_id, "kind": dv.kind, "vendor": dv.vendor, "model": dv.model,
            "firmware": dv.firmware, "check": f.check_name, "severity": f.severity, "title": f.title,
            "evidence": f.evidence, "source": f.source, "file": f.file, "packet": f.packet, "time": f.time,
            "status": f.status, "note": f.note, "first_found": f.first_found, "last_found": f.last_found,
        })
    return out


def review_finding(finding: PostureFinding, user, status: str, note: str, via: str = "web") -> None:
    """A reviewer's decision on a posture finding (verified as fixed, risk accepted, reopened)."""
    if status not in (FindingStatus.OPEN, FindingStatus.VERIFIED, FindingStatus.ACCEPTED):
        raise InputError("status", status, "one of open, verified, accepted")
    note = (note or "").strip()
    if status != FindingStatus.OPEN and not note:
        raise InputError("note", "", "say how it was verified or why the risk is accepted")
    actor = _actor(user, via)
    before = {"status": finding.status, "note": finding.note}
    with transaction.atomic():
        finding.status, finding.note = status, note
        finding.save(update_fields=["status", "note"])
        AuditEntry.objects.create(
            actor=actor.user if getattr(actor.user, "pk", None) else None, actor_name=actor.name, via=actor.via,
            action="update", object_type="discovery.posturefinding", object_id=str(finding.pk),
            object_repr=str(finding)[:300], site_slug=finding.device.site.slug, before=before,
            after={"status": status, "note": note})


def _observations(device: DiscoveredDevice, docs: Iterable[dict[str, Any]], created: bool) -> list[Observation]:
    seen = set() if created else set(device.observations.values_list("attribute", "value", "source"))
    new = []
    for o in docs:
        k = (_clip(o.get("attribute"), 64), _clip(o.get("value"), 500), _clip(o.get("source"), 100))
        if not k[0] or k in seen:
            continue
        seen.add(k)
        new.append(Observation(device=device, attribute=k[0], value=k[1], source=k[2], file=_clip(o.get("file"), 300),
                               packet=int(o.get("packet") or 0), time=_when(o.get("time")),
                               confidence=float(o.get("confidence") or 0.0)))
    Observation.objects.bulk_create(new)
    return new


# ------------------------------------------------------------------ owners


def suggested_owners(devices: Iterable[DiscoveredDevice]) -> dict[int, Owners]:
    """Per device, its owners under the ownership rules: a matched or promoted device's asset's own
    (asset rule, then kind, then site); otherwise what the rules would give an asset of its kind at its
    site (kind rule, else the site's)."""
    devices = list(devices)
    index = OwnershipIndex(Site.objects.filter(pk__in={d.site_id for d in devices}))
    return {d.pk: index.resolve(d.asset if d.asset_id else Asset(site_id=d.site_id, kind=d.kind or ""))
            for d in devices}


# ------------------------------------------------------------------ review


def _actor(user, via: str) -> audit.Actor:
    return audit.Actor(user=user, name=user.get_username() if user is not None else "system", via=via)


def _record(device: DiscoveredDevice, actor: audit.Actor, before: dict, after: dict) -> None:
    AuditEntry.objects.create(
        actor=actor.user if getattr(actor.user, "pk", None) else None, actor_name=actor.name, via=actor.via,
        action="update", object_type="discovery.discovereddevice", object_id=str(device.pk),
        object_repr=str(device)[:300], site_slug=device.site.slug, before=before, after=after,
    )


def promote(device: DiscoveredDevice, user, name: str, kind: str = "", via: str = "web") -> Asset:
    """Make an asset (and its interface) of a discovered device; the audit trail records both."""
    if device.status in (DeviceStatus.MATCHED, DeviceStatus.PROMOTED):
        raise InputError("device", device.key, f"already {device.get_status_display().lower()}: "
                         f"{device.asset.name if device.asset else ''}")
    slug = slugify(name or device.hostname or device.key.replace(":", "-").replace(".", "-"))[:100]
    if not slug:
        raise InputError("name", "", "a name is needed (letters, digits, hyphens)")
    if Asset.objects.filter(site=device.site, name=slug).exists():
        raise InputError("name", slug, f"an asset of that name exists at {device.site.slug}")
    kind = kind or device.kind or AssetKind.OTHER
    if kind not in AssetKind.values:
        raise InputError("kind", kind, "not an asset kind")
    actor = _actor(user, via)
    with transaction.atomic(), audit.acting_as(actor):
        asset = Asset.objects.create(
            site=device.site, name=slug, kind=kind, vendor=device.vendor[:100], model=device.model[:100],
            firmware=device.firmware[:100], serial=device.serial[:100], tags=["discovered"],
            description=f"Promoted from passive discovery ({device.key}) by {actor.name}",
        )
        if device.ip or device.mac:
            Interface.objects.create(asset=asset, name="eth0", ip=device.ip or None, mac=device.mac)
        before = {"status": device.status, "asset": None}
        device.status, device.asset = DeviceStatus.PROMOTED, asset
        device.match_reason = f"promoted to {asset.name} by {actor.name}"
        device.reviewed_by = user if getattr(user, "pk", None) else None
        device.reviewed = timezone.now()
        device.save()
        _record(device, actor, before, {"status": device.status, "asset": asset.name})
    return asset


def dismiss(device: DiscoveredDevice, user, why: str, via: str = "web") -> None:
    """Record that a discovered device needs no asset (a laptop on a service visit, a test rig…)."""
    why = (why or "").strip()
    if not why:
        raise InputError("why", "", "say why the device is dismissed")
    if device.status == DeviceStatus.PROMOTED:
        raise InputError("device", device.key, "already promoted to an asset")
    actor = _actor(user, via)
    before = {"status": device.status}
    with transaction.atomic():
        device.status = DeviceStatus.DISMISSED
        device.review_note = why
        device.reviewed_by = user if getattr(user, "pk", None) else None
        device.reviewed = timezone.now()
        device.save()
        _record(device, actor, before, {"status": device.status, "why": why})
