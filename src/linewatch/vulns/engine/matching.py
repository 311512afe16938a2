"""Matching devices against the feeds, with a confidence tier and the evidence for it.

Tiers (research note §4.3):

* **confirmed** - the device's model is the product (exactly, after name normalisation) and its firmware lies in a
  structured range: NVD ``cpeMatch`` bounds or an exact CPE version, or a CSAF range we could read.
* **probable** - the product matches but the version cannot be decided: the device's firmware is unknown, the
  record gives no version limit (CPE version ``*``/``-`` without bounds, ``vers:all/*``), or the range is prose;
  or the model only matches a product family (``DS-2CD2xx2FWD Series``) and the version is in range.
* **possible** - only the vendor and family match (or only the vendor, for a KEV entry with no product data).

A version that a structured range excludes is not a match. When an exact, structured source says the version is
outside its range while a vaguer one (no version limit) says affected, the match drops to possible and says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import IntEnum

from .cpe import Cpe, parse_cpe
from .model import ConfigNode, CsafFinding, KevEntry, NvdRecord, VulnRecord
from .names import families, model_key, same_model, vendor_key
from .versions import Version, VersionRange, nvd_range, parse_range, parse_version


class Confidence(IntEnum):
    NONE = 0
    POSSIBLE = 1
    PROBABLE = 2
    CONFIRMED = 3

    @property
    def label(self) -> str:
        return self.name.lower()


MAX_EVIDENCE = 8
AFFECTED = {"known_affected", "first_affected", "last_affected", "under_investigation"}


@dataclass(frozen=True)
class Device:
    vendor: str
    model: str = ""
    firmware: str = ""
    cpe: str = ""
    name: str = ""
    site: str = ""


@dataclass
class Evidence:
    feed: str  # nvd | csaf | kev
    record: str  # CVE id or advisory id
    locator: str  # JSON path of the cpeMatch, or the CSAF product id
    detail: str  # the criteria/product and range that matched
    device_attribute: str  # which device attributes were used, with their values
    confidence: Confidence
    reason: str

    def as_dict(self) -> dict:
        d = asdict(self)
        d["confidence"] = self.confidence.label
        return d


@dataclass
class Match:
    cve: str
    device: Device
    confidence: Confidence
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    remediations: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"cve": self.cve, "device": asdict(self.device), "confidence": self.confidence.label,
                "evidence": [e.as_dict() for e in self.evidence], "notes": self.notes,
                "remediations": self.remediations}


@dataclass
class _Ident:
    vendor: str
    model: str
    firmware: Version | None
    firmware_raw: str
    families: frozenset[str]

    def attr(self, with_version: bool = True) -> str:
        s = f"vendor={self.vendor!r} model={self.model!r}"
        if with_version:
            s += f" firmware={self.firmware_raw!r}" if self.firmware_raw else " firmware=unknown"
        return s


def _ident(device: Device) -> _Ident:
    vendor, model, fw = device.vendor, device.model, device.firmware
    if device.cpe:
        c = parse_cpe(device.cpe)
        vendor = vendor or c.vendor
        model = model or c.device_product
        if not fw and c.version not in ("*", "-", ""):
            fw = c.version
    return _Ident(vendor, model, parse_version(fw, vendor) if fw else None, fw, families(vendor, model))


# ------------------------------------------------------------------------------------------------- NVD


@dataclass
class _Leaf:
    rank: Confidence
    vulnerable: bool
    evidence: Evidence | None
    excluded: bool = False  # exact product whose structured range excludes the firmware


def _version_rank(exact: bool, rng: VersionRange, dev: _Ident) -> tuple[Confidence, str, bool]:
    if rng.all_versions:
        return (Confidence.PROBABLE if exact else Confidence.POSSIBLE), "record gives no version limit", False
    if rng.free_text is not None:
        return (Confidence.PROBABLE if exact else Confidence.POSSIBLE), f"range is free text: {rng}", False
    if dev.firmware is None:
        return (Confidence.PROBABLE if exact else Confidence.POSSIBLE), "device firmware unknown", False
    if rng.contains(dev.firmware):
        return (Confidence.CONFIRMED if exact else Confidence.PROBABLE), f"firmware {dev.firmware_raw} in {rng}", False
    return Confidence.NONE, f"firmware {dev.firmware_raw} outside {rng}", exact


def _nvd_leaf(rec: NvdRecord, cm, where: str, dev: _Ident) -> _Leaf:
    try:
        cpe: Cpe = parse_cpe(cm.criteria)
    except ValueError:
        return _Leaf(Confidence.NONE, cm.vulnerable, None)
    if not dev.vendor or vendor_key(cpe.vendor) != vendor_key(dev.vendor):
        return _Leaf(Confidence.NONE, cm.vulnerable, None)
    relation = same_model(dev.model, cpe.device_product, dev.vendor) if dev.model else None
    if relation is None:
        if dev.families and dev.families & families(dev.vendor, cpe.device_product):
            relation = "family-only"
        else:
            return _Leaf(Confidence.NONE, cm.vulnerable, None)
    exact = relation == "exact"
    if relation == "family-only":
        rank, why, excluded = Confidence.POSSIBLE, "same product family only", False
    elif cpe.part == "h":
        if cm.vulnerable:  # the hardware itself is vulnerable: firmware version not stated
            rank, why, excluded = (Confidence.PROBABLE if exact else Confidence.POSSIBLE), "hardware CPE", False
        else:  # the "running on" platform: the model matches, that is all it says
            rank, why, excluded = (Confidence.CONFIRMED if exact else Confidence.PROBABLE), "platform", False
    else:
        rng = nvd_range(cpe.version, cm.version_start_including, cm.version_start_excluding,
                        cm.version_end_including, cm.version_end_excluding, dev.vendor)
        rank, why, excluded = _version_rank(exact, rng, dev)
    rng_text = ""
    if cpe.part != "h":
        rng_text = " " + str(nvd_range(cpe.version, cm.version_start_including, cm.version_start_excluding,
                                       cm.version_end_including, cm.version_end_excluding, dev.vendor))
    ev = Evidence("nvd", rec.cve, f"{where} (matchCriteriaId {cm.match_criteria_id})" if cm.match_criteria_id
                  else where, f"{cm.criteria}{rng_text}", dev.attr(cpe.part != "h"), rank,
                  f"{relation} product match; {why}")
    return _Leaf(rank, cm.vulnerable, ev, excluded)


def _combine(op: str, ranks: list[Confidence]) -> Confidence:
    if not ranks:
        return Confidence.NONE
    return min(ranks) if op == "AND" else max(ranks)


def _eval_node(rec: NvdRecord, node: ConfigNode, where: str, dev: _Ident, leaves: list[_Leaf]) -> Confidence:
    mine = [_nvd_leaf(rec, cm, f"{where}.cpeMatch[{k}]", dev) for k, cm in enumerate(node.cpe_match)]
    leaves.extend(mine)
    r = _combine(node.operator, [lf.rank for lf in mine])
    if node.negate:
        r = Confidence.CONFIRMED if r == Confidence.NONE else Confidence.NONE
    return r


def match_nvd(rec: NvdRecord, dev: _Ident) -> tuple[Confidence, list[Evidence], bool]:
    best, evidence, excluded = Confidence.NONE, [], False
    for ci, conf in enumerate(rec.configurations):
        leaves: list[_Leaf] = []
        ranks = [_eval_node(rec, n, f"$.configurations[{ci}].nodes[{ni}]", dev, leaves)
                 for ni, n in enumerate(conf.nodes)]
        r = _combine(conf.operator, ranks)
        if conf.negate:
            r = Confidence.CONFIRMED if r == Confidence.NONE else Confidence.NONE
        excluded = excluded or any(lf.excluded and lf.vulnerable for lf in leaves)
        vuln = [lf for lf in leaves if lf.vulnerable and lf.rank > Confidence.NONE and lf.evidence]
        if r > Confidence.NONE and vuln:
            r = min(r, max(lf.rank for lf in vuln))
            if r > best:
                best = r
            for lf in leaves:
                if lf.evidence and lf.rank > Confidence.NONE:
                    evidence.append(lf.evidence)
    return best, evidence, excluded


# ------------------------------------------------------------------------------------------------ CSAF


def match_csaf(f: CsafFinding, dev: _Ident) -> tuple[Confidence, list[Evidence], bool, list[str]]:
    best, evidence, excluded, fixed_notes = Confidence.NONE, [], False, []
    for p in f.products:
        if not dev.vendor or vendor_key(p.vendor) != vendor_key(dev.vendor):
            continue
        relation = None
        if dev.model:
            if any(model_key(m) == model_key(dev.model) for m in p.model_numbers):
                relation = "exact"
            else:
                relation = same_model(dev.model, p.product_name, p.vendor) or same_model(dev.model, p.full_name,
                                                                                         p.vendor)
        if relation is None:
            fams = families(p.vendor, p.product_name) | families(p.vendor, p.full_name)
            if dev.families & fams:
                relation = "family-only"
            else:
                continue
        text = p.version if p.version is not None else p.version_range
        rng = parse_range(text, p.vendor) if text else VersionRange(all_versions=True)
        if relation == "family-only":
            rank, why, excl = Confidence.POSSIBLE, "same product family only", False
        else:
            rank, why, excl = _version_rank(relation == "exact", rng, dev)
        if p.status not in AFFECTED:
            # A product the advisory lists as fixed/not affected, and the device is that version: say so.
            if rank >= Confidence.PROBABLE and rng.structured:
                fixed_notes.append(f"{f.advisory} lists {p.full_name or p.product_name} ({text}) as {p.status}")
            continue
        excluded = excluded or excl
        if rank == Confidence.NONE:
            continue
        best = max(best, rank)
        evidence.append(Evidence("csaf", f.advisory, f"product_id {p.product_id}",
                                 f"{p.vendor} / {p.product_name}: {text or 'no version given'}",
                                 dev.attr(relation != "family-only"), rank, f"{relation} product match; {why}"))
    return best, evidence, excluded, fixed_notes


# ------------------------------------------------------------------------------------------------- KEV


def match_kev(k: KevEntry, dev: _Ident) -> tuple[Confidence, list[Evidence]]:
    """KEV names a vendor and a product in prose; used alone only when no NVD or CSAF product data exists."""
    if not dev.vendor or vendor_key(k.vendor_project) != vendor_key(dev.vendor):
        return Confidence.NONE, []
    mk = model_key(dev.model)
    related = bool(mk) and (same_model(dev.model, k.product, k.vendor_project) is not None
                            or (len(mk) >= 4 and mk in model_key(k.product)))
    rank = Confidence.PROBABLE if related else Confidence.POSSIBLE
    why = "KEV product names the model" if related else "vendor match only; KEV product is prose"
    return rank, [Evidence("kev", k.cve, "cveID", f"{k.vendor_project} / {k.product}", dev.attr(False), rank, why)]


# ---------------------------------------------------------------------------------------------- driver


def match_record(rec: VulnRecord, device: Device, dev: _Ident | None = None) -> Match | None:
    dev = dev or _ident(device)
    best, evidence, excluded, notes, rems = Confidence.NONE, [], False, [], []
    has_product_data = False
    if rec.nvd and rec.nvd.configurations:
        has_product_data = True
        r, ev, ex = match_nvd(rec.nvd, dev)
        best, excluded = max(best, r), excluded or ex
        evidence += ev
    for f in rec.csaf.values():
        has_product_data = True
        r, ev, ex, fixed = match_csaf(f, dev)
        best, excluded = max(best, r), excluded or ex
        evidence += ev
        notes += fixed
        if r > Confidence.NONE:
            rems += f.remediations
    if not has_product_data and rec.kev:
        r, ev = match_kev(rec.kev, dev)
        best = max(best, r)
        evidence += ev
    if best == Confidence.NONE:
        return None
    if excluded and best < Confidence.CONFIRMED:
        notes.append("a structured range for this exact product excludes the firmware; kept as possible only")
        best = Confidence.POSSIBLE
    if notes and best == Confidence.PROBABLE and any("as fixed" in n or "known_not_affected" in n for n in notes):
        best = Confidence.POSSIBLE
    if rec.in_kev and rec.kev is not None:
        evidence.append(Evidence("kev", rec.cve, "cveID", f"{rec.kev.vendor_project} / {rec.kev.product}: "
                                 f"{rec.kev.name}", "", best, "listed as known exploited"))
    evidence.sort(key=lambda e: -e.confidence)
    if len(evidence) > MAX_EVIDENCE:
        notes.append(f"{len(evidence) - MAX_EVIDENCE} more matching entries not shown")
        evidence = evidence[:MAX_EVIDENCE]
    return Match(rec.cve, device, best, evidence, notes, list(dict.fromkeys(rems)))


def match(device: Device, store, minimum: Confidence = Confidence.POSSIBLE) -> list[Match]:
    """Every CVE in `store` (a `FeedStore` or any iterable of `VulnRecord`) that may affect `device`,
    best confidence first. A `FeedStore` is asked only for the records naming the device's vendor."""
    dev = _ident(device)
    out = []
    records = store.candidates(dev.vendor) if hasattr(store, "candidates") else store
    for rec in records:
        m = match_record(rec, device, dev)
        if m is not None and m.confidence >= minimum:
            out.append(m)
    out.sort(key=lambda m: (-m.confidence, m.cve))
    return out
