"""`FeedStore`: every feed record merged per CVE, in memory: the view the matcher reads.

The database (`linewatch.vulns.models`, filled by `linewatch feeds import`) is where records persist;
`linewatch.vulns.services.feed_store()` builds a `FeedStore` from it. Both apply the one rule in `merge`.

Merging is by source key, so importing the same file twice changes nothing and a newer file replaces the
older record: NVD by CVE (the newer ``lastModified`` wins), KEV by CVE, CSAF by (CVE, advisory id; the newer
tracking version/date wins), EPSS by CVE (the newer score date wins).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import msgspec

from .cpe import parse_cpe
from .model import CsafFinding, EpssScore, KevEntry, NvdRecord, VulnRecord
from .names import vendor_key

Record = NvdRecord | KevEntry | CsafFinding | EpssScore


@dataclass
class ImportStats:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged, "by_kind": self.by_kind}


class FeedStore:
    """All vulnerability knowledge, keyed by CVE id."""

    def __init__(self) -> None:
        self.records: dict[str, VulnRecord] = {}
        self._by_vendor: dict[str, list[str]] | None = None  # vendor key -> CVEs naming it; built on first use

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[VulnRecord]:
        return iter(self.records.values())

    def get(self, cve: str) -> VulnRecord | None:
        return self.records.get(cve)

    def add(self, item: NvdRecord | KevEntry | CsafFinding | EpssScore) -> str:
        """Merge one record; returns ``added``, ``updated`` or ``unchanged``."""
        self._by_vendor = None
        rec = self.records.get(item.cve)
        created = rec is None
        if rec is None:
            rec = self.records[item.cve] = VulnRecord(cve=item.cve)
        if isinstance(item, NvdRecord):
            outcome, rec.nvd = merge(rec.nvd, item)
        elif isinstance(item, KevEntry):
            outcome, rec.kev = merge(rec.kev, item)
        elif isinstance(item, CsafFinding):
            outcome, kept = merge(rec.csaf.get(item.advisory), item)
            rec.csaf = {**rec.csaf, item.advisory: kept}
        elif isinstance(item, EpssScore):
            outcome, rec.epss = merge(rec.epss, item)
        else:  # pragma: no cover - programming error
            raise TypeError(f"not a feed record: {item!r}")
        return "added" if created else outcome

    def candidates(self, vendor: str) -> list[VulnRecord]:
        """The records that name `vendor` anywhere a match could come from (an NVD cpeMatch, a CSAF product, the
        KEV entry): every matching path compares vendor keys first, so the others cannot match."""
        if self._by_vendor is None:
            index: dict[str, set[str]] = {}
            for rec in self.records.values():
                for key in _vendors(rec):
                    index.setdefault(key, set()).add(rec.cve)
            self._by_vendor = {k: sorted(v) for k, v in index.items()}
        return [self.records[c] for c in self._by_vendor.get(vendor_key(vendor), ())]

    def add_all(self, items: Iterable, kind: str = "", stats: ImportStats | None = None) -> ImportStats:
        stats = stats or ImportStats()
        for item in items:
            outcome = self.add(item)
            setattr(stats, outcome, getattr(stats, outcome) + 1)
            if kind:
                stats.by_kind[kind] = stats.by_kind.get(kind, 0) + 1
        return stats


def merge(old: Record | None, item: Record) -> tuple[str, Record]:
    """The one merge rule for a source record (used by `FeedStore` and by the database import alike): the record
    to keep and whether that is ``added``, ``updated`` or ``unchanged``. An older record never replaces a newer
    one: NVD by ``lastModified``, KEV by catalogue version (the CSV export carries none: it inherits the stored
    one), CSAF by (release date, tracking version), EPSS by score date."""
    if old is None:
        return "added", item
    if isinstance(item, KevEntry) and not item.catalog_version:
        item = msgspec.structs.replace(item, catalog_version=old.catalog_version)
    if _order(old) > _order(item):
        return "unchanged", old
    return ("unchanged" if _same(old, item) else "updated"), item


def _vendors(rec: VulnRecord) -> set[str]:
    keys: set[str] = set()
    if rec.nvd:
        for conf in rec.nvd.configurations:
            for node in conf.nodes:
                for cm in node.cpe_match:
                    try:
                        keys.add(vendor_key(parse_cpe(cm.criteria).vendor))
                    except ValueError:
                        continue
    for f in rec.csaf.values():
        keys.update(vendor_key(p.vendor) for p in f.products)
    if rec.kev:
        keys.add(vendor_key(rec.kev.vendor_project))
    keys.discard("")
    return keys


def _order(r: Record) -> tuple:
    if isinstance(r, NvdRecord):
        return (r.last_modified,)
    if isinstance(r, KevEntry):
        return (r.catalog_version,)
    if isinstance(r, CsafFinding):
        return (r.release_date, r.version)
    return (r.score_date,)


def _same(a: msgspec.Struct, b: msgspec.Struct) -> bool:
    """Equal apart from the file they came from."""
    return msgspec.json.encode(msgspec.structs.replace(a, source="")) == \
        msgspec.json.encode(msgspec.structs.replace(b, source=""))
