"""The records the feeds give us, one shape per source, merged per CVE in `FeedStore`.

All are msgspec Structs: plain data, cheap to persist as JSON lines.
"""

from __future__ import annotations

import msgspec


class CpeMatch(msgspec.Struct, kw_only=True):
    criteria: str
    vulnerable: bool = True
    match_criteria_id: str = ""
    version_start_including: str | None = None
    version_start_excluding: str | None = None
    version_end_including: str | None = None
    version_end_excluding: str | None = None


class ConfigNode(msgspec.Struct, kw_only=True):
    operator: str = "OR"
    negate: bool = False
    cpe_match: list[CpeMatch] = []


class Configuration(msgspec.Struct, kw_only=True):
    operator: str = "OR"
    negate: bool = False
    nodes: list[ConfigNode] = []


class Score(msgspec.Struct, kw_only=True):
    """One CVSS score: `kind` is ``cvss_v40``, ``cvss_v31``, ``cvss_v30`` or ``cvss_v2``; `primary` marks the
    NVD Primary score (CSAF scores count as primary for their advisory)."""

    kind: str
    base_score: float
    vector: str = ""
    source: str = ""
    primary: bool = True


class NvdRecord(msgspec.Struct, kw_only=True):
    cve: str
    last_modified: str = ""
    status: str = ""
    description: str = ""
    scores: list[Score] = []
    configurations: list[Configuration] = []
    cwes: list[str] = []  # CWE ids from the record's weaknesses
    cisa_exploit_add: str | None = None
    cisa_action_due: str | None = None
    source: str = ""  # file it came from


class KevEntry(msgspec.Struct, kw_only=True):
    cve: str
    vendor_project: str = ""
    product: str = ""
    name: str = ""
    date_added: str = ""
    due_date: str = ""
    required_action: str = ""
    ransomware: bool = False
    notes: str = ""
    catalog_version: str = ""
    source: str = ""


class CsafProduct(msgspec.Struct, kw_only=True):
    """One product leaf of a CSAF product tree, with the status this vulnerability gives it."""

    product_id: str
    vendor: str = ""
    product_name: str = ""
    full_name: str = ""
    version: str | None = None  # exact product_version
    version_range: str | None = None  # product_version_range text (vers: or free text)
    model_numbers: list[str] = []
    status: str = "known_affected"  # known_affected | fixed | known_not_affected | ...


class CsafFinding(msgspec.Struct, kw_only=True):
    """What one CSAF advisory says about one CVE."""

    advisory: str
    cve: str
    title: str = ""
    release_date: str = ""
    version: str = ""
    products: list[CsafProduct] = []
    remediations: list[str] = []
    scores: list[Score] = []
    source: str = ""


class EpssScore(msgspec.Struct, kw_only=True):
    cve: str
    epss: float
    percentile: float
    score_date: str = ""
    model_version: str = ""
    source: str = ""


class VulnRecord(msgspec.Struct, kw_only=True):
    """Everything known about one CVE, from every feed."""

    cve: str
    nvd: NvdRecord | None = None
    kev: KevEntry | None = None
    csaf: dict[str, CsafFinding] = {}  # advisory id -> finding
    epss: EpssScore | None = None

    @property
    def in_kev(self) -> bool:
        return self.kev is not None or bool(self.nvd and self.nvd.cisa_exploit_add)

    def best_score(self) -> Score | None:
        """The CVSS to rank by: v4.0, then v3.1, then v3.0, then v2; Primary before Secondary; NVD before CSAF."""
        scores = list(self.nvd.scores) if self.nvd else []
        for f in self.csaf.values():
            scores.extend(f.scores)
        order = {"cvss_v40": 0, "cvss_v31": 1, "cvss_v30": 2, "cvss_v2": 3}
        scores = [s for s in scores if s.kind in order]
        if not scores:
            return None
        return min(scores, key=lambda s: (order[s.kind], not s.primary))
