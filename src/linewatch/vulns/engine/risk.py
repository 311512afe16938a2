"""Risk order for findings: an SSVC-like lexicographic key, not one blended number (research note §4.3).

Order, most important first:

1. exploitation: in CISA KEV with known ransomware use (2) > in KEV (1) > not (0);
2. EPSS percentile band: >= 0.95 (3), >= 0.80 (2), >= 0.50 (1), lower or unknown (0);
3. CVSS band of the preferred score (v4.0, then v3.1/v3.0 Primary, then Secondary, then v2):
   critical >= 9 (4), high >= 7 (3), medium >= 4 (2), low > 0 (1), none/unknown (0);
4. exposure: reachable from the Internet (3) or from IT (2), else by Purdue level: 3 and above (incl. the 3.5 DMZ)
   is (1), levels 0-2 are (0); unknown counts as IT-reachable (2), because unknown must not hide a finding;
5. consequence: cost per hour of the device being lost (higher first);
6. match confidence (confirmed > probable > possible);
7. ties broken by the raw EPSS and CVSS numbers.

`RiskKey` sorts ascending from most to least urgent when used with ``sorted(..., key=...)`` on `rank`'s output,
because each part is negated; `explain` lists the reasons in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import VulnRecord


@dataclass(frozen=True)
class Exposure:
    """Where the device sits: a Purdue level (0-5, 3.5 for the DMZ) and/or whether it is reachable from the
    Internet or from the IT network (from the segmentation engine, when it exists)."""

    purdue_level: float | None = None
    internet_reachable: bool = False
    it_reachable: bool | None = None

    def band(self) -> tuple[int, str]:
        if self.internet_reachable:
            return 3, "reachable from the Internet"
        if self.it_reachable:
            return 2, "reachable from IT"
        if self.purdue_level is not None:
            if self.purdue_level >= 3:
                return 1, f"Purdue level {self.purdue_level:g}"
            return 0, f"Purdue level {self.purdue_level:g} (control network)"
        if self.it_reachable is False:
            return 0, "not reachable from IT"
        return 2, "exposure unknown (treated as reachable from IT)"


@dataclass(frozen=True)
class Risk:
    key: tuple
    explanation: list[str] = field(default_factory=list)
    kev: bool = False
    ransomware: bool = False
    epss: float | None = None
    epss_percentile: float | None = None
    cvss: float | None = None
    cvss_kind: str = ""

    def as_dict(self) -> dict:
        return {"kev": self.kev, "ransomware": self.ransomware, "epss": self.epss,
                "epss_percentile": self.epss_percentile, "cvss": self.cvss, "cvss_kind": self.cvss_kind,
                "explanation": self.explanation, "key": list(self.key)}


def _epss_band(p: float | None) -> int:
    if p is None:
        return 0
    return 3 if p >= 0.95 else 2 if p >= 0.80 else 1 if p >= 0.50 else 0


def _cvss_band(s: float | None) -> tuple[int, str]:
    if s is None:
        return 0, "unknown"
    for limit, band, name in ((9.0, 4, "critical"), (7.0, 3, "high"), (4.0, 2, "medium"), (0.1, 1, "low")):
        if s >= limit:
            return band, name
    return 0, "none"


def rank(rec: VulnRecord, exposure: Exposure | None = None, consequence_per_hour: float | None = None,
         confidence: int = 0) -> Risk:
    """The sort key and explanation for one CVE on one device. Sort ascending on `Risk.key`: most urgent first."""
    exposure = exposure or Exposure()
    why: list[str] = []
    kev = rec.in_kev
    ransomware = bool(rec.kev and rec.kev.ransomware)
    if ransomware:
        why.append("known exploited (CISA KEV), used in ransomware campaigns")
    elif kev:
        added = rec.kev.date_added if rec.kev else (rec.nvd.cisa_exploit_add if rec.nvd else "")
        why.append(f"known exploited (CISA KEV, added {added})" if added else "known exploited (CISA KEV)")
    else:
        why.append("not in CISA KEV")
    pct = rec.epss.percentile if rec.epss else None
    epss = rec.epss.epss if rec.epss else None
    why.append(f"EPSS {epss:.3f} (percentile {pct:.2f})" if rec.epss else "no EPSS score")
    score = rec.best_score()
    cvss = score.base_score if score else None
    cband, cname = _cvss_band(cvss)
    why.append(f"CVSS {cvss:g} {cname} ({score.kind}, {'primary' if score.primary else 'secondary'}"
               f"{', ' + score.source if score.source else ''})" if score else "no CVSS score")
    eband, ewhy = exposure.band()
    why.append(ewhy)
    cost = consequence_per_hour or 0.0
    why.append(f"consequence {cost:,.0f}/h" if consequence_per_hour is not None else "consequence unknown")
    key = (-(2 if ransomware else 1 if kev else 0), -_epss_band(pct), -cband, -eband, -cost, -confidence,
           -(epss or 0.0), -(cvss or 0.0))
    return Risk(key, why, kev, ransomware, epss, pct, cvss, score.kind if score else "")
