"""Devices in, ranked findings out: matching and risk together, for the CLI, the API and the UI alike."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from linewatch.errors import InputError

from .cpe import parse_cpe
from .matching import Confidence, Device, Match, match
from .risk import Exposure, Risk, rank


@dataclass
class DeviceContext:
    """A device with what risk needs to know about its place in the plant."""

    device: Device
    exposure: Exposure
    consequence_per_hour: float | None = None


@dataclass
class Finding:
    match: Match
    risk: Risk
    context: DeviceContext

    def as_dict(self) -> dict:
        return {**self.match.as_dict(), "risk": self.risk.as_dict()}


def assess(devices: Iterable[DeviceContext], store, minimum: Confidence = Confidence.PROBABLE) -> list[Finding]:
    """Match every device against the store and rank the findings, most urgent first."""
    findings: list[Finding] = []
    for ctx in devices:
        for m in match(ctx.device, store, minimum):
            rec = store.get(m.cve)
            findings.append(Finding(m, rank(rec, ctx.exposure, ctx.consequence_per_hour, int(m.confidence)), ctx))
    findings.sort(key=lambda f: (f.risk.key, f.match.device.name, f.match.cve))
    return findings


_TRUE = {"1", "true", "yes", "y", "x"}


def read_devices(path: Path, text: str | None = None) -> list[DeviceContext]:
    """Devices from a CSV with the header ``vendor,model,firmware`` and optionally ``site``, ``name``, ``cpe``,
    ``purdue_level``, ``internet_reachable``, ``it_reachable``, ``consequence_per_hour``."""
    source = str(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InputError(source, "", f"cannot read: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise InputError(source, f"byte {exc.start}", "not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("vendor", "model", "firmware") if c not in header]
    if missing:
        raise InputError(source, "line 1", f"device CSV header lacks {', '.join(missing)}")
    reader.fieldnames = header
    out: list[DeviceContext] = []
    for row in reader:
        place = f"line {reader.line_num}"
        if None in row:
            raise InputError(source, place, "more fields than the header has")
        row = {k: (v or "").strip() for k, v in row.items()}
        if not row["vendor"] and not row.get("cpe"):
            raise InputError(source, place, "vendor is empty")
        if row.get("cpe"):
            try:
                parse_cpe(row["cpe"])
            except ValueError as exc:
                raise InputError(source, place + " column cpe", str(exc)) from None
        try:
            level = float(row["purdue_level"]) if row.get("purdue_level") else None
            cost = float(row["consequence_per_hour"]) if row.get("consequence_per_hour") else None
        except ValueError as exc:
            raise InputError(source, place, f"not a number: {exc}") from None
        it = row.get("it_reachable", "")
        exposure = Exposure(purdue_level=level, internet_reachable=row.get("internet_reachable", "").lower() in _TRUE,
                            it_reachable=(it.lower() in _TRUE) if it else None)
        name = row.get("name") or f"{row['vendor']} {row['model']}".strip()
        dev = Device(vendor=row["vendor"], model=row["model"], firmware=row["firmware"], cpe=row.get("cpe", ""),
                     name=name, site=row.get("site", ""))
        out.append(DeviceContext(dev, exposure, cost))
    return out
