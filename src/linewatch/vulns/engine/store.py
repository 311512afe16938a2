"""`FeedStore`: every feed record merged per CVE, in memory, with a JSON-lines file for persistence.

Merging is by source key, so importing the same file twice changes nothing and a newer file replaces the
older record: NVD by CVE (the newer ``lastModified`` wins), KEV by CVE, CSAF by (CVE, advisory id; the newer
tracking version/date wins), EPSS by CVE (the newer score date wins).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from linewatch.errors import InputError

from .model import CsafFinding, EpssScore, KevEntry, NvdRecord, VulnRecord

STORE_FILE = "vulns.jsonl"


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

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[VulnRecord]:
        return iter(self.records.values())

    def get(self, cve: str) -> VulnRecord | None:
        return self.records.get(cve)

    def add(self, item: NvdRecord | KevEntry | CsafFinding | EpssScore) -> str:
        """Merge one record; returns ``added``, ``updated`` or ``unchanged``."""
        rec = self.records.get(item.cve)
        if rec is None:
            rec = self.records[item.cve] = VulnRecord(cve=item.cve)
            outcome = "added"
        else:
            outcome = None
        if isinstance(item, NvdRecord):
            old = rec.nvd
            if old is not None and old.last_modified > item.last_modified:
                return outcome or "unchanged"
            rec.nvd = item
        elif isinstance(item, KevEntry):
            old = rec.kev
            if old is not None and not item.catalog_version:  # the CSV export carries no catalogue version
                item = msgspec.structs.replace(item, catalog_version=old.catalog_version)
            if old is not None and old.catalog_version > item.catalog_version:
                return outcome or "unchanged"
            rec.kev = item
        elif isinstance(item, CsafFinding):
            old = rec.csaf.get(item.advisory)
            if old is not None and (old.release_date, old.version) > (item.release_date, item.version):
                return outcome or "unchanged"
            rec.csaf = {**rec.csaf, item.advisory: item}
        elif isinstance(item, EpssScore):
            old = rec.epss
            if old is not None and old.score_date > item.score_date:
                return outcome or "unchanged"
            rec.epss = item
        else:  # pragma: no cover - programming error
            raise TypeError(f"not a feed record: {item!r}")
        if outcome:
            return outcome
        return "unchanged" if old is not None and _same(old, item) else "updated"

    def add_all(self, items: Iterable, kind: str = "", stats: ImportStats | None = None) -> ImportStats:
        stats = stats or ImportStats()
        for item in items:
            outcome = self.add(item)
            setattr(stats, outcome, getattr(stats, outcome) + 1)
            if kind:
                stats.by_kind[kind] = stats.by_kind.get(kind, 0) + 1
        return stats

    # -------------------------------------------------------------------------------------- persistence

    def save(self, folder: Path) -> Path:
        """Write the store to ``folder/vulns.jsonl`` atomically."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / STORE_FILE
        tmp = path.with_suffix(".jsonl.tmp")
        enc = msgspec.json.Encoder()
        with tmp.open("wb") as fh:
            for cve in sorted(self.records):
                fh.write(enc.encode(self.records[cve]) + b"\n")
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, folder: Path) -> FeedStore:
        """Read a store written by `save`; an absent file gives an empty store."""
        store = cls()
        path = folder / STORE_FILE
        if not path.exists():
            return store
        dec = msgspec.json.Decoder(VulnRecord)
        with path.open("rb") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    rec = dec.decode(line)
                except msgspec.DecodeError as exc:
                    raise InputError(str(path), f"line {n}", f"broken store record: {exc}") from None
                store.records[rec.cve] = rec
        return store


def _same(a: msgspec.Struct, b: msgspec.Struct) -> bool:
    """Equal apart from the file they came from."""
    return msgspec.json.encode(msgspec.structs.replace(a, source="")) == \
        msgspec.json.encode(msgspec.structs.replace(b, source=""))
