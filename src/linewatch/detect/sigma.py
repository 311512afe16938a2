"""Sigma rules in the pipeline: the compiled single-event engine and the correlation engine,
fed normalized events, producing Detections.

Routing: Windows events keep their native fields (`Channel`, `EventID`, … in `unmapped`), so
SigmaHQ's Windows rules route as the engine's Windows table says. Linewatch's own rules use
`logsource: {product: linewatch, category: <class>}`, where the category is the event class's name
in snake case (`controller_activity`, `physical_access`, `network_activity`, …), routed on
`class_uid`. Rule fields are OCSF attribute paths plus the enrichment's `*.asset.*` and
`linewatch.*` context.

Informational rules never alert on their own: they are signals that correlations count and
chain (a badge denial, a remote logon, a controller write). A rule referenced by a correlation
alerts on its own only when the correlation says `generate: true` (Sigma's semantics).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from linewatch.detect import pipelines
from linewatch.detect.detection import Detection
from linewatch.detect.engine.correlation import CorrelationConfig, CorrelationEngine
from linewatch.detect.engine.logsource import WINDOWS_KEY_FIELDS, Router, windows_rows
from linewatch.detect.engine.ruleset import RuleSet
from linewatch.events.schema import Event

PACK = Path(__file__).parent / "rules" / "linewatch"
ENVELOPE = ("uid", "time", "class_uid", "activity_id", "severity_id", "status_id", "message", "source", "site")
EVIDENCE_KEPT = 20_000  # recent events remembered to give correlation alerts their evidence
DEFAULT_LATENESS_MS = 500  # live feeds arrive in order within this; it bounds correlation latency


def router() -> Router:
    """Windows (native fields), Zeek and the generic categories (mapped to OCSF), and Linewatch's classes."""
    rows = windows_rows() + pipelines.zeek_rows() + pipelines.generic_rows() + pipelines.linewatch_rows()
    return Router(rows, (*WINDOWS_KEY_FIELDS, *pipelines.KEY_FIELDS))


def flat(event: Event) -> dict[str, Any]:
    """The mapping rules read: native fields, then OCSF attributes, then the envelope."""
    out = dict(event.unmapped)
    out.update(event.attrs)
    for name in ENVELOPE:
        out[name] = getattr(event, name)
    return out


class SigmaDetector:
    """Runs single-event rules on each event and feeds their matches to the correlations."""

    def __init__(self, ruleset: RuleSet, correlations: CorrelationEngine | None = None,
                 run_correlations: bool = True) -> None:
        self.ruleset = ruleset
        self.correlations = correlations
        # False where another stage owns the correlation state (the distributed mode's partitions):
        # the engine then only says which base rules alert on their own (`generate`).
        self.run_correlations = run_correlations and correlations is not None
        self.recent: OrderedDict[str, Event] = OrderedDict()

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path], *, lateness_ms: int | None = None,
                   run_correlations: bool = True) -> SigmaDetector:
        """Load rules and correlations. `lateness_ms`: how late an event may arrive and still be
        ordered into the correlation windows (default LINEWATCH_CORRELATION_LATENESS_MS or
        DEFAULT_LATENESS_MS); correlation alerts wait that long before they fire."""
        if lateness_ms is None:
            lateness_ms = int(os.environ.get("LINEWATCH_CORRELATION_LATENESS_MS", DEFAULT_LATENESS_MS))
        paths = list(paths)
        ruleset = RuleSet.from_paths(paths, router=router())
        known = [v for r in ruleset.rules for v in (r.match.name, r.rule_id) if v]
        correlations = CorrelationEngine.from_paths(paths, known_rules=known,
                                                    config=CorrelationConfig(allowed_lateness_ms=lateness_ms))
        return cls(ruleset, correlations, run_correlations)

    def _remember(self, event: Event) -> None:
        self.recent[event.uid] = event
        if len(self.recent) > EVIDENCE_KEPT:
            self.recent.popitem(last=False)

    def detect(self, events: Sequence[Event]) -> list[Detection]:
        found: list[Detection] = []
        for event in events:
            record = flat(event)
            matches = self.ruleset.match(record)
            for m in matches:
                if m.level == "informational":
                    continue  # a signal for correlations and search, not an alert of its own
                if self.correlations is None or self.correlations.standalone(m.rule_id or m.name or ""):
                    found.append(Detection(m.rule_id or m.name or m.title, m.title, m.level or "medium",
                                           tags=tuple(m.tags), events=(event,)))
            if not self.run_correlations:
                continue
            self._remember(event)
            found.extend(self._hits(self.correlations.process(record, event.time, matches)))
        if self.run_correlations and events:
            found.extend(self._hits(self.correlations.advance(max(e.time for e in events))))
        return found

    def correlate(self, event: Event) -> list[Detection]:
        """Correlation hits only (the partition operator's step): match, then feed the engine."""
        record = flat(event)
        self._remember(event)
        return self._hits(self.correlations.process(record, event.time, self.ruleset.match(record)))

    def _hits(self, hits) -> list[Detection]:
        out = []
        for hit in hits:
            if not hit.output:
                continue
            evidence = tuple(self.recent[u] for u in hit.event_uids if u in self.recent)
            out.append(Detection(hit.rule_id or hit.name or hit.title, hit.title, hit.level or "medium",
                                 tags=tuple(hit.tags), events=evidence))
        return out


class SigmaCorrelationOperator:
    """The Sigma correlation engine as a partition operator of the distributed mode: each
    partition (all of a site's events, see `events.partitions`) has one owner at a time, which
    keeps the windows and hands them on through `snapshot()`/`restore()`."""

    name = "sigma-correlations"

    def __init__(self) -> None:
        from linewatch.detect.detectors import rule_paths

        self.detector = SigmaDetector.from_paths(rule_paths())

    def process(self, event: Event) -> list[Detection]:
        return self.detector.correlate(event)

    def snapshot(self) -> bytes:
        return self.detector.correlations.snapshot()

    def restore(self, data: bytes) -> None:
        self.detector.correlations.restore(data)
