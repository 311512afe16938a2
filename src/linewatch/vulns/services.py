"""Feeds into the database, the inventory against them, and the risk register.

* `import_feed(path)` reads one feed file with the engine's readers and upserts its records with the engine's
  one merge rule (`engine.store.merge`): a re-import changes nothing, a newer record updates, nothing is ever
  duplicated; broken records are reported with their place while the file's good records are stored.
* `feed_store()` is the database as the engine's `FeedStore`, which `match_sites` runs the matcher over.
* `match_sites(sites)` matches every subject of the inventory: a plant-model asset (its vendor/model/firmware,
  overridden by what discovery observed on the wire for it, with that observation's provenance) or a
  discovered device that no asset stands for. Each match becomes a `Finding` with its tier, evidence and risk
  parts; a finding no longer matched is marked inactive; a status a person set is kept.
* `set_status(finding, user, status, why)` is the one way to change a finding's status; it writes the audit trail.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from linewatch.core.models import Asset, AuditEntry, Site
from linewatch.discovery.models import DeviceStatus, DiscoveredDevice, Observation
from linewatch.errors import InputError
from linewatch.vulns import models as m
from linewatch.vulns.engine import model as em
from linewatch.vulns.engine.matching import Confidence as EngineConfidence
from linewatch.vulns.engine.matching import Device, match
from linewatch.vulns.engine.readers import read_feed
from linewatch.vulns.engine.risk import Exposure, rank
from linewatch.vulns.engine.store import FeedStore, ImportStats, merge

CHUNK = 500


# ================================================================== import


@dataclass
class FileImport:
    file: str
    kind: str = ""
    records: int = 0
    stats: ImportStats = field(default_factory=ImportStats)
    errors: list[InputError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "kind": self.kind, "records": self.records, "added": self.stats.added,
                "updated": self.stats.updated, "unchanged": self.stats.unchanged,
                "errors": [e.as_dict() for e in self.errors]}


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise InputError(str(path), "", f"cannot read: {exc.strerror or exc}") from None
    return h.hexdigest()


def import_feed(path: Path, actor: str = "cli") -> FileImport:
    """Import one feed file; raises `InputError` when the file as a whole is unreadable or not a feed."""
    digest = _digest(path)
    result = FileImport(str(path))
    result.kind, records = read_feed(path, result.errors)
    result.records = len(records)
    with transaction.atomic():
        _UPSERT[result.kind](records, result.stats)
        m.FeedImport.objects.create(
            file=str(path)[:500], digest=digest, kind=result.kind, records=result.records, added=result.stats.added,
            updated=result.stats.updated, unchanged=result.stats.unchanged,
            errors=[e.as_dict() for e in result.errors][:200], actor=actor[:150])
    return result


def _builtins(rec: msgspec.Struct) -> dict:
    return msgspec.to_builtins(rec)


def _upsert(model, key_field: str, records: list, typ: type, columns: Callable[[Any], dict],
            stats: ImportStats) -> None:
    """Upsert records of one kind keyed by `key_field` with the engine's merge rule."""
    latest: dict[str, Any] = {}
    for r in records:  # several records for one key in one file: merge them first
        k = getattr(r, key_field)
        latest[k] = merge(latest.get(k), r)[1] if k in latest else r
    keys = list(latest)
    for i in range(0, len(keys), CHUNK):
        chunk = keys[i:i + CHUNK]
        existing = {getattr(row, key_field): row for row in model.objects.filter(**{f"{key_field}__in": chunk})}
        create, update = [], []
        for k in chunk:
            row = existing.get(k)
            outcome, kept = merge(msgspec.convert(row.record, typ) if row else None, latest[k])
            setattr(stats, outcome, getattr(stats, outcome) + 1)
            values = {**columns(kept), "record": _builtins(kept), "source": kept.source[:500]}
            if row is None:
                create.append(model(**{key_field: k}, **values))
            elif outcome == "updated":
                for name, value in values.items():
                    setattr(row, name, value)
                row.updated = timezone.now()
                update.append(row)
        model.objects.bulk_create(create)
        if update:
            model.objects.bulk_update(update, [*columns(latest[chunk[0]]), "record", "source", "updated"])


def _nvd_columns(r: em.NvdRecord) -> dict:
    score = em.VulnRecord(cve=r.cve, nvd=r).best_score()
    return {"description": r.description, "status": r.status[:40], "last_modified": r.last_modified[:40],
            "cvss": score.base_score if score else None, "cvss_kind": score.kind if score else "",
            "cvss_vector": (score.vector if score else "")[:200], "cwes": list(r.cwes),
            "configurations": [_builtins(c) for c in r.configurations]}


def _kev_columns(r: em.KevEntry) -> dict:
    return {"vendor_project": r.vendor_project[:200], "product": r.product[:200], "name": r.name[:500],
            "date_added": r.date_added[:20], "due_date": r.due_date[:20], "ransomware": r.ransomware}


def _epss_columns(r: em.EpssScore) -> dict:
    return {"epss": r.epss, "percentile": r.percentile, "score_date": r.score_date[:40]}


def _upsert_csaf(records: list[em.CsafFinding], stats: ImportStats) -> None:
    by_advisory: dict[str, list[em.CsafFinding]] = {}
    for r in records:
        by_advisory.setdefault(r.advisory, []).append(r)
    for advisory_id, findings in by_advisory.items():
        first = findings[0]
        adv, _ = m.Advisory.objects.get_or_create(advisory_id=advisory_id[:100])
        known = {(p["product_id"]): p for p in adv.products}
        for f in findings:
            for p in f.products:
                known[p.product_id] = {k: v for k, v in _builtins(p).items() if k != "status"}
        values = {"title": first.title[:500], "release_date": first.release_date[:40], "version": first.version[:40],
                  "source": first.source[:500], "products": sorted(known.values(), key=lambda p: p["product_id"])}
        if (adv.release_date, adv.version) <= (values["release_date"], values["version"]) and any(
                getattr(adv, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(adv, k, v)
            adv.save()
        rows = {row.cve: row for row in adv.vulnerabilities.all()}
        for f in findings:
            row = rows.get(f.cve)
            outcome, kept = merge(msgspec.convert(row.record, em.CsafFinding) if row else None, f)
            setattr(stats, outcome, getattr(stats, outcome) + 1)
            if row is None:
                rows[f.cve] = m.AdvisoryVulnerability.objects.create(advisory=adv, cve=f.cve, record=_builtins(kept))
            elif outcome == "updated":
                row.record = _builtins(kept)
                row.save(update_fields=["record"])


_UPSERT: dict[str, Callable[[list, ImportStats], None]] = {
    "nvd": lambda recs, st: _upsert(m.Vulnerability, "cve", recs, em.NvdRecord, _nvd_columns, st),
    "kev": lambda recs, st: _upsert(m.KevEntry, "cve", recs, em.KevEntry, _kev_columns, st),
    "epss": lambda recs, st: _upsert(m.EpssScore, "cve", recs, em.EpssScore, _epss_columns, st),
    "csaf": _upsert_csaf,
}


def feed_store(cves: Iterable[str] | None = None) -> FeedStore:
    """The imported feeds as the engine's `FeedStore` (all of them, or only `cves`)."""
    store = FeedStore()

    def rows(model):
        qs = model.objects.all()
        return qs.filter(cve__in=list(cves)) if cves is not None else qs

    for model, typ in ((m.Vulnerability, em.NvdRecord), (m.KevEntry, em.KevEntry), (m.EpssScore, em.EpssScore),
                       (m.AdvisoryVulnerability, em.CsafFinding)):
        for record in rows(model).values_list("record", flat=True).iterator(chunk_size=2000):
            store.add(msgspec.convert(record, typ))
    return store


def feed_counts() -> dict[str, int]:
    return {"vulnerabilities": m.Vulnerability.objects.count(), "advisories": m.Advisory.objects.count(),
            "kev": m.KevEntry.objects.count(), "epss": m.EpssScore.objects.count()}


# ================================================================== inventory


@dataclass
class Subject:
    """One thing in the inventory that can carry a vulnerability, with where each attribute came from."""

    site: Site
    key: str  # asset:<name> | device:<key>
    name: str
    asset: Asset | None
    device: DiscoveredDevice | None
    attributes: dict[str, dict[str, str]]  # vendor/model/firmware -> {value, provenance}
    ips: list[str]

    def engine_device(self) -> Device:
        a = self.attributes
        return Device(vendor=a.get("vendor", {}).get("value", ""), model=a.get("model", {}).get("value", ""),
                      firmware=a.get("firmware", {}).get("value", ""), name=self.name, site=self.site.slug)


def _observed(device: DiscoveredDevice, attribute: str, value: str, obs: list[Observation]) -> str:
    """The provenance of a discovered device's attribute: the strongest observation of that value."""
    best = max((o for o in obs if o.attribute == attribute and o.value == value), key=lambda o: o.confidence,
               default=None)
    if best is None:
        return f"discovered device {device.key}"
    where = f", packet {best.packet} of {best.file}" if best.file else ""
    when = f" at {best.time:%Y-%m-%d %H:%M:%S}" if best.time else ""
    return f"observed: {best.source}{where}{when} (confidence {best.confidence:.2f})"


def inventory(site: Site) -> list[Subject]:
    """The site's assets (with what discovery saw for them) and its discovered devices that no asset stands for."""
    devices = list(DiscoveredDevice.objects.filter(site=site).prefetch_related("observations"))
    by_asset: dict[int, DiscoveredDevice] = {}
    for d in devices:
        if d.asset_id and d.status in (DeviceStatus.MATCHED, DeviceStatus.PROMOTED):
            by_asset.setdefault(d.asset_id, d)
    subjects = []
    for a in Asset.objects.filter(site=site).select_related("zone").prefetch_related("interfaces"):
        attrs = {k: {"value": getattr(a, k), "provenance": f"asset record {a.name} (plant model)"}
                 for k in ("vendor", "model", "firmware") if getattr(a, k)}
        d = by_asset.get(a.pk)
        ips = [i.ip for i in a.interfaces.all() if i.ip]
        if d is not None:
            obs = list(d.observations.all())
            for k in ("vendor", "model", "firmware"):
                seen = getattr(d, k)
                if seen:
                    prov = _observed(d, k, seen, obs)
                    if k in attrs and attrs[k]["value"] != seen:
                        prov += f"; the asset record says {attrs[k]['value']!r}"
                    attrs[k] = {"value": seen, "provenance": prov}
            if d.ip and d.ip not in ips:
                ips.append(d.ip)
        if attrs.get("vendor"):
            subjects.append(Subject(site, f"asset:{a.name}", a.name, a, d, attrs, ips))
    for d in devices:
        if d.asset_id or not d.vendor:
            continue
        obs = list(d.observations.all())
        attrs = {k: {"value": getattr(d, k), "provenance": _observed(d, k, getattr(d, k), obs)}
                 for k in ("vendor", "model", "firmware") if getattr(d, k)}
        subjects.append(Subject(site, f"device:{d.key}", d.label, None, d, attrs, [d.ip] if d.ip else []))
    return subjects


# ================================================================== exposure and consequence


IT_LEVELS = {"4", "5"}


def _firewall_mapping(site_slug: str) -> dict | None:
    """The site's firewall configurations as the segmentation engine's device mapping: those stored by
    `linewatch segmentation load`, else the demo's shipped mapping; None when the site has none."""
    from linewatch.segmentation import services as segmentation
    from linewatch.segmentation.plant import demo_mapping, load_mapping

    stored = getattr(segmentation, "stored_mapping", None)
    if stored is not None:
        mapping = stored(site_slug)
        if mapping.get("devices"):
            return mapping
    path = demo_mapping(site_slug)
    return load_mapping(path) if path is not None else None


class ExposureOracle:
    """Exposure per subject: the segmentation engine's answer (accepted from the Internet or from IT zones to the
    device's address) when the site has firewall configurations, else its zone's Purdue level."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.zones = list(site.zones.all())
        self.network = None
        self.note = ""
        self.it: list[str] = []
        self.internet: list = []
        self._cache: dict[str, tuple[Exposure, str, str]] = {}
        try:
            mapping = _firewall_mapping(site.slug)
            if mapping is None:
                return
            from linewatch.segmentation.plant import build

            model = build(site.slug, mapping)
            self.network = model.network()
        except Exception as exc:  # noqa: BLE001 - a broken config must not stop matching: fall back, and say so
            self.note = f"segmentation model unusable ({exc}); Purdue level used"
            self.network = None
            return
        self.it = [c for z in model.zones.values() if z.level in IT_LEVELS for c in z.cidrs]
        self.internet = model.internet

    def _zone_level(self, subject: Subject) -> tuple[float | None, str]:
        if subject.asset is not None and subject.asset.zone is not None:
            return float(subject.asset.zone.purdue_level), subject.asset.zone.slug
        for ip in subject.ips:
            try:
                addr = ipaddress.ip_address(ip)
            except ValueError:
                continue
            for z in self.zones:
                for c in z.cidrs or []:
                    try:
                        if addr in ipaddress.ip_network(c, strict=False):
                            return float(z.purdue_level), z.slug
                    except ValueError:
                        continue
        return None, ""

    def of(self, subject: Subject) -> tuple[Exposure, str]:
        """(exposure, method) where method is ``segmentation``, ``purdue`` or ``unknown``."""
        level, zone = self._zone_level(subject)
        ips = [ip for ip in subject.ips if ":" not in ip]
        if self.network is not None and ips:
            from linewatch.segmentation.engine.reach import ACCEPTED

            internet = it = False
            for ip in ips:
                if self.internet and self.network.reach(self.internet, [f"{ip}/32"]).disposition == ACCEPTED:
                    internet = True
                if self.it and self.network.reach(self.it, [f"{ip}/32"]).disposition == ACCEPTED:
                    it = True
            return Exposure(purdue_level=level, internet_reachable=internet, it_reachable=it), "segmentation"
        if level is not None:  # a device in an IT zone (Purdue 4-5) is reachable from IT by definition
            return Exposure(purdue_level=level, it_reachable=True if level >= 4 else None), "purdue"
        return Exposure(), "unknown"


def _consequence(asset: Asset | None, currency: str) -> tuple[float | None, dict]:
    if asset is None:
        return None, {}
    from linewatch.core.services import consequence, consequence_as_dict

    result = consequence_as_dict(consequence([asset]), currency)
    lines = [{"line": li["line"], "status": li["status"], "cost_per_hour": li["cost_per_hour"]}
             for li in result["lines"]]
    return result["cost_per_hour"], {"cost_per_hour": result["cost_per_hour"], "currency": currency,
                                     "lines": lines, "safety_critical": result["safety_critical"],
                                     "down": sorted(result["down"])[:20]}


# ================================================================== matching


@dataclass
class MatchSummary:
    site: str
    subjects: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    inactive: int = 0
    kept_status: int = 0
    exposure: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _evidence(mt, subject: Subject) -> list[dict]:
    out = []
    for e in mt.evidence:
        d = e.as_dict()
        used = ["vendor", "model"] + (["firmware"] if "firmware=" in e.device_attribute else [])
        d["provenance"] = {k: subject.attributes[k]["provenance"] for k in used if k in subject.attributes}
        out.append(d)
    return out


def risk_parts(rec: em.VulnRecord, exposure: Exposure, method: str, cost: float | None, note: str) -> dict:
    score = rec.best_score()
    band = exposure.band()[0]
    return {
        "exploitability": {"kev": rec.in_kev, "ransomware": bool(rec.kev and rec.kev.ransomware),
                           "epss": rec.epss.epss if rec.epss else None,
                           "epss_percentile": rec.epss.percentile if rec.epss else None,
                           "cvss": score.base_score if score else None, "cvss_kind": score.kind if score else "",
                           "cvss_vector": score.vector if score else ""},
        "exposure": {"band": band, "why": _exposure_text(exposure, method), "method": method, "note": note,
                     "purdue_level": exposure.purdue_level},
        "consequence": {"cost_per_hour": cost},
    }


def _exposure_text(exposure: Exposure, method: str) -> str:
    band, why = exposure.band()
    if method == "segmentation" and band < 2:
        why = f"not reachable from IT or the Internet (firewall configs); {why}"
    return why[:300]


def priority(key: tuple) -> int:
    """The leading bands of the engine's risk key as one sortable number (see engine.risk): exploitation,
    EPSS band, CVSS band, exposure band, one digit each."""
    return int(-key[0]) * 1000 + int(-key[1]) * 100 + int(-key[2]) * 10 + int(-key[3])


FIELDS = ("title", "advisories", "confidence", "confidence_rank", "evidence", "notes", "remediations", "attributes",
          "kev", "ransomware", "epss", "epss_percentile", "cvss", "exposure", "exposure_band", "exposure_method",
          "consequence_per_hour", "consequence", "risk_score", "risk_parts", "risk_explanation", "asset_id",
          "device_id", "active")


def match_site(site: Site, store: FeedStore | None = None,
               minimum: EngineConfidence = EngineConfidence.POSSIBLE) -> MatchSummary:
    """Match the site's inventory against the feeds and store the findings (idempotent; statuses are kept)."""
    store = feed_store() if store is None else store
    summary = MatchSummary(site.slug)
    subjects = inventory(site)
    summary.subjects = len(subjects)
    oracle: ExposureOracle | None = None
    currency = site.organisation.currency
    now = timezone.now()
    seen: set[tuple[str, str]] = set()
    existing = {(f.subject, f.cve): f for f in m.Finding.objects.filter(site=site)}
    with transaction.atomic():
        for s in subjects:
            matches = match(s.engine_device(), store, minimum)
            if not matches:
                continue
            oracle = oracle or ExposureOracle(site)
            exposure, method = oracle.of(s)
            cost, consequence = _consequence(s.asset, currency)
            for mt in matches:
                rec = store.get(mt.cve)
                r = rank(rec, exposure, cost, int(mt.confidence))
                title = (rec.kev.name if rec.kev else "") or next((f.title for f in rec.csaf.values()), "") or (
                    rec.nvd.description[:200] if rec.nvd else "")
                values = {
                    "title": title[:500], "advisories": sorted({e.record for e in mt.evidence if e.feed == "csaf"}),
                    "confidence": mt.confidence.label, "confidence_rank": int(mt.confidence),
                    "evidence": _evidence(mt, s), "notes": mt.notes, "remediations": mt.remediations,
                    "attributes": s.attributes, "kev": r.kev, "ransomware": r.ransomware, "epss": r.epss,
                    "epss_percentile": r.epss_percentile, "cvss": r.cvss, "exposure": _exposure_text(exposure, method),
                    "exposure_band": exposure.band()[0], "exposure_method": method,
                    "consequence_per_hour": cost, "consequence": consequence, "risk_score": priority(r.key),
                    "risk_parts": risk_parts(rec, exposure, method, cost, oracle.note),
                    "risk_explanation": r.explanation, "asset_id": s.asset.pk if s.asset else None,
                    "device_id": s.device.pk if s.device else None, "active": True,
                }
                seen.add((s.key, mt.cve))
                f = existing.get((s.key, mt.cve))
                if f is None:
                    m.Finding.objects.create(site=site, subject=s.key, cve=mt.cve, last_matched=now, **values)
                    summary.created += 1
                    continue
                if f.status != m.FindingStatus.OPEN:
                    summary.kept_status += 1
                if all(_same(getattr(f, k), v) for k, v in values.items()):
                    summary.unchanged += 1
                    m.Finding.objects.filter(pk=f.pk).update(last_matched=now)
                    continue
                for k, v in values.items():
                    setattr(f, k, v)
                f.last_matched = now
                f.save()
                summary.updated += 1
        gone = [f.pk for k, f in existing.items() if k not in seen and f.active]
        summary.inactive = m.Finding.objects.filter(pk__in=gone).update(active=False)
    summary.exposure = "segmentation" if oracle and oracle.network is not None else "purdue"
    return summary


def _same(a: Any, b: Any) -> bool:
    """Equal as stored: PostgreSQL's jsonb reorders object keys, so JSON is compared with sorted keys."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b)
    if isinstance(a, dict | list):
        return msgspec.json.encode(a, order="sorted") == msgspec.json.encode(b, order="sorted")
    return a == b


def match_sites(sites: Iterable[Site]) -> list[MatchSummary]:
    store = feed_store()
    return [match_site(s, store) for s in sites]


# ================================================================== status


TRANSITIONS_NEED_REASON = {m.FindingStatus.ACCEPTED, m.FindingStatus.MITIGATED, m.FindingStatus.FALSE_POSITIVE}


def set_status(finding: m.Finding, user, status: str, why: str, via: str = "web") -> m.Finding:
    """Change a finding's status, saying why (every status but open needs a reason); the audit trail records it."""
    if status not in m.FindingStatus.values:
        raise InputError("status", status, f"one of {', '.join(m.FindingStatus.values)}")
    why = (why or "").strip()
    if status in TRANSITIONS_NEED_REASON and not why:
        raise InputError("why", "", "say why (who accepted the risk, what mitigates it, why it is a false positive)")
    name = user.get_username() if user is not None and getattr(user, "pk", None) else "system"
    before = {"status": finding.status, "by": finding.status_by_name, "why": finding.status_reason}
    with transaction.atomic():
        finding.status = status
        finding.status_reason = why
        finding.status_by = user if getattr(user, "pk", None) else None
        finding.status_by_name = name
        finding.status_changed = timezone.now()
        finding.save(update_fields=["status", "status_reason", "status_by", "status_by_name", "status_changed"])
        AuditEntry.objects.create(
            actor=finding.status_by, actor_name=name, via=via[:200], action="update",
            object_type="vulns.finding", object_id=str(finding.pk), object_repr=str(finding)[:300],
            site_slug=finding.site.slug, before=before, after={"status": status, "by": name, "why": why})
    return finding


# ================================================================== register


def ranked(findings: QuerySet[m.Finding]) -> QuerySet[m.Finding]:
    """Most urgent first: the engine's risk order (see engine.risk), unknowns last."""
    return findings.order_by(F("risk_score").desc(), F("consequence_per_hour").desc(nulls_last=True),
                             F("confidence_rank").desc(), F("epss").desc(nulls_last=True),
                             F("cvss").desc(nulls_last=True), "subject", "cve")


def filter_findings(findings: QuerySet[m.Finding], site: str = "", tier: str = "", kev: str = "", status: str = "",
                    subject: str = "", active: bool = True) -> QuerySet[m.Finding]:
    """The register's filters; bad values are input errors, not empty lists. `tier` is one tier, ``all``, or
    empty for confirmed and probable."""
    if site:
        findings = findings.filter(site__slug=site)
    if tier == "all":
        pass
    elif tier:
        if tier not in m.Confidence.values:
            raise InputError("tier", tier, f"one of {', '.join(m.Confidence.values)}, all")
        findings = findings.filter(confidence=tier)
    else:  # by default what is at least probable: a possible match is kept, labelled, and shown on request
        findings = findings.exclude(confidence=m.Confidence.POSSIBLE)
    if kev:
        if kev not in ("yes", "no", "true", "false", "1", "0"):
            raise InputError("kev", kev, "yes or no")
        findings = findings.filter(kev=kev in ("yes", "true", "1"))
    if status:
        if status not in m.FindingStatus.values:
            raise InputError("status", status, f"one of {', '.join(m.FindingStatus.values)}")
        findings = findings.filter(status=status)
    if subject:
        findings = findings.filter(subject=subject)
    if active:
        findings = findings.filter(active=True)
    return findings


def posture(sites: QuerySet[Site], status: str = "") -> list[dict[str, Any]] | None:
    """Posture findings of discovered devices from discovery (`discovery.services.posture_findings`), open and
    accepted ones by default; None when discovery does not provide them."""
    from linewatch.discovery import services as discovery

    fn = getattr(discovery, "posture_findings", None)
    if fn is None:
        return None
    return list(fn(list(sites), statuses=[status]) if status else fn(list(sites)))


def finding_dict(f: m.Finding, detail: bool = False) -> dict[str, Any]:
    """The one JSON shape of a finding, for the CLI and the API."""
    d = {
        "id": f.pk, "site": f.site.slug, "subject": f.subject, "asset": f.asset.name if f.asset_id else None,
        "device": f.device.key if f.device_id else None, "cve": f.cve, "title": f.title,
        "advisories": f.advisories, "confidence": f.confidence, "kev": f.kev, "ransomware": f.ransomware,
        "epss": f.epss, "epss_percentile": f.epss_percentile, "cvss": f.cvss, "exposure": f.exposure,
        "exposure_method": f.exposure_method, "consequence_per_hour": f.consequence_per_hour,
        "risk_score": f.risk_score, "status": f.status, "status_by": f.status_by_name,
        "status_reason": f.status_reason, "status_changed": f.status_changed, "active": f.active,
        "last_matched": f.last_matched,
    }
    if detail:
        d.update({"evidence": f.evidence, "notes": f.notes, "remediations": f.remediations,
                  "attributes": f.attributes, "risk_parts": f.risk_parts, "risk_explanation": f.risk_explanation,
                  "consequence": f.consequence})
    return d


# -- facts for attack paths (linewatch.segmentation.analysis) ----------------------------------------------------

CONTROL_KINDS = frozenset({"plc", "rtu", "safety_plc", "drive", "io_module", "robot", "door_controller",
                           "gate_controller", "access_controller", "bms_controller"})
# What a vulnerable device's services are when discovery saw none served: the usual ones of its kind.
KIND_SERVICES = {"camera": ["tcp/80", "tcp/443", "tcp/554"], "nvr": ["tcp/80", "tcp/443", "tcp/554"],
                 "plc": ["tcp/102", "tcp/502", "tcp/44818"], "hmi": ["tcp/80", "tcp/3389", "tcp/5900"]}


def exploitable_services(site_slug: str) -> dict[str, list[dict]]:
    """{asset pk: [{"service": "tcp/80", "id": "CVE-…", "gives": "code"|"control"}]}: the confirmed or probable,
    still-matched vulnerabilities nobody has mitigated or dismissed, on the services the device was seen serving
    (discovery's protocol roles, mapped to ports with the discovery engine's own table), else its kind's usual
    ones. A controller's vulnerability gives control of the process; any other gives code execution."""
    from linewatch.discovery.engine.analyse import TCP_SERVICES, UDP_SERVICES

    ports: dict[str, list[str]] = {}
    for table, proto in ((TCP_SERVICES, "tcp"), (UDP_SERVICES, "udp")):
        for port, name in table.items():
            ports.setdefault(name, []).append(f"{proto}/{port}")
    findings = (m.Finding.objects.filter(site__slug=site_slug, active=True, asset__isnull=False,
                                         confidence__in=[m.Confidence.CONFIRMED, m.Confidence.PROBABLE])
                .exclude(status__in=[m.FindingStatus.MITIGATED, m.FindingStatus.FALSE_POSITIVE])
                .select_related("asset", "device"))
    facts: dict[str, list[dict]] = {}
    for finding in findings:
        served = [p for p, roles in ((finding.device.protocols if finding.device else {}) or {}).items()
                  if "server" in roles]
        services = sorted({s for p in served for s in ports.get(p, [])}) or KIND_SERVICES.get(
            finding.asset.kind, ["tcp/80", "tcp/443"])
        gives = "control" if finding.asset.kind in CONTROL_KINDS else "code"
        facts.setdefault(str(finding.asset_id), []).extend(
            {"service": s, "id": finding.cve, "gives": gives} for s in services)
    return facts
