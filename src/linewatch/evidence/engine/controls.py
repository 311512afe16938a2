"""The controls an evidence pack reports on, their mapping to NIST CSF 2.0, IEC 62443-2-1 and ISO/IEC 27001:2022
Annex A, and the KPIs computed from the pack's own records.

The KPIs are a pure function of the records (`compute`), so the verifier recomputes them from the records it has
verified and a report whose figures do not follow from its records fails. A KPI whose records are absent says
"no data": nothing is estimated. IEC 62443-2-1 clause numbers are those of the 2010 edition (CSMS elements);
NIST CSF 2.0 subcategories and ISO/IEC 27001:2022 Annex A control numbers as published.

Record kinds read (bodies as written by the producing domain):

- `patrol.scan` {verified: bool}, `patrol.exception` {exception: missed|late|out_of_order|…}
- `alert.raised` {alert}, `alert.acknowledged` / `alert.closed` {alert}; `incident.opened` / `incident.closed`
- `rollcall.*` with {opened, closed} ISO times or {duration_seconds}
- `vuln.finding_status` {to: open|accepted|mitigated|false_positive}; `segmentation.finding_closed`
- `plant.changed` {action, object_type}
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    question: str  # what an underwriter asks of it
    nist_csf: tuple[str, ...]
    iec62443_2_1: tuple[str, ...]
    iso27001: tuple[str, ...]


CONTROLS: tuple[Control, ...] = (
    Control("physical-patrols", "Physical patrols and monitoring",
            "Are patrols completed as scheduled, and are exceptions raised and followed up?",
            ("DE.CM-02", "PR.AA-06"), ("4.3.3.3 Physical and environmental security",),
            ("A.7.1 Physical security perimeters", "A.7.2 Physical entry", "A.7.4 Physical security monitoring")),
    Control("incident-response", "Incident detection and response",
            "How fast are alerts acknowledged and closed, and are incidents handled to closure?",
            ("DE.AE-02", "RS.MA-01", "RS.MA-02", "RS.MI-01"), ("4.3.4.5 Incident planning and response",),
            ("A.5.25 Assessment and decision on information security events",
             "A.5.26 Response to information security incidents", "A.7.4 Physical security monitoring")),
    Control("emergency-roll-call", "Emergency roll call and personnel safety",
            "How long does it take to account for everyone on site in an emergency?",
            ("RC.RP-01", "ID.IM-04"), ("4.3.2.5 Business continuity plan",),
            ("A.7.5 Protecting against physical and environmental threats",
             "A.5.29 Information security during disruption")),
    Control("vulnerability-management", "Vulnerability management",
            "Are vulnerability findings on plant devices closed (mitigated, accepted or refuted)?",
            ("ID.RA-01", "PR.PS-02"), ("4.3.4.3 System development and maintenance",),
            ("A.8.8 Management of technical vulnerabilities", "A.7.13 Equipment maintenance")),
    Control("network-segmentation", "Network segmentation",
            "Are segmentation findings (flows the zone model forbids) closed?",
            ("PR.IR-01",), ("4.3.3.4 Network segmentation",), ("A.8.22 Segregation of networks",)),
    Control("change-control", "Plant model and configuration changes",
            "Is every change to the plant model recorded with who made it and how?",
            ("PR.PS-01", "ID.AM-08"), ("4.3.4.3 System development and maintenance",),
            ("A.8.9 Configuration management", "A.8.32 Change management")),
)

BY_ID = {c.id: c for c in CONTROLS}
VULN_CLOSED = {"mitigated", "accepted", "false_positive"}
NO_DATA = "no data"


def _time(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _minutes(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return {"median": round(statistics.median(ordered), 1), "p90": round(p90, 1), "count": len(ordered)}


def kpi(name: str, value: Any, display: str, records: list[int]) -> dict[str, Any]:
    return {"name": name, "value": value, "display": display, "records": records}


def compute(records: Sequence[tuple[int, dict]]) -> dict[str, list[dict[str, Any]]]:
    """KPIs per control id from (index, record) pairs, each record {kind, site, time, body}."""
    by_kind: dict[str, list[tuple[int, dict]]] = {}
    for index, rec in records:
        if isinstance(rec, dict) and isinstance(rec.get("kind"), str):
            by_kind.setdefault(rec["kind"], []).append((index, rec))

    def body(rec: dict) -> dict:
        return rec.get("body") if isinstance(rec.get("body"), dict) else {}

    out: dict[str, list[dict[str, Any]]] = {}

    # Patrols: verified scans against verified scans plus missed checkpoints.
    scans = by_kind.get("patrol.scan", [])
    exceptions = by_kind.get("patrol.exception", [])
    verified = [i for i, r in scans if body(r).get("verified") is True]
    missed = [i for i, r in exceptions if body(r).get("exception") == "missed"]
    kinds = Counter(str(body(r).get("exception")) for _, r in exceptions)
    expected = len(verified) + len(missed)
    out["physical-patrols"] = [
        kpi("patrol completion", round(100 * len(verified) / expected, 1) if expected else None,
            f"{100 * len(verified) / expected:.1f} % ({len(verified)} of {expected} checkpoints)" if expected
            else NO_DATA, sorted(verified + missed)),
        kpi("patrol exceptions", dict(sorted(kinds.items())) if scans or exceptions else None,
            (", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "none") if scans or exceptions else NO_DATA,
            [i for i, _ in exceptions]),
    ]

    # Incident response: time from the alert to its first acknowledgement and to its close.
    raised = {body(r).get("alert"): (i, _time(r.get("time"))) for i, r in by_kind.get("alert.raised", [])}
    ack: list[float] = []
    closed: list[float] = []
    used: list[int] = []
    for kind, sink in (("alert.acknowledged", ack), ("alert.closed", closed)):
        seen: set = set()
        for i, r in by_kind.get(kind, []):
            alert = body(r).get("alert")
            start = raised.get(alert)
            at = _time(r.get("time"))
            if start is None or start[1] is None or at is None or alert in seen:
                continue
            seen.add(alert)
            sink.append(max(0.0, (at - start[1]).total_seconds() / 60))
            used += [start[0], i]
    opened = by_kind.get("incident.opened", [])
    closed_incidents = by_kind.get("incident.closed", [])
    out["incident-response"] = [
        kpi("time to acknowledge (min)", _minutes(ack) if ack else None,
            f"median {_minutes(ack)['median']}, p90 {_minutes(ack)['p90']} ({len(ack)} alerts)" if ack else NO_DATA,
            sorted(set(used))),
        kpi("time to close (min)", _minutes(closed) if closed else None,
            f"median {_minutes(closed)['median']}, p90 {_minutes(closed)['p90']} ({len(closed)} alerts)" if closed
            else NO_DATA, sorted(set(used))),
        kpi("incidents opened / closed", {"opened": len(opened), "closed": len(closed_incidents)}
            if opened or closed_incidents else None,
            f"{len(opened)} / {len(closed_incidents)}" if opened or closed_incidents else NO_DATA,
            [i for i, _ in opened + closed_incidents]),
    ]

    # Roll calls: minutes from opening to everyone accounted for.
    durations: list[float] = []
    roll: list[int] = []
    for kind, rows in by_kind.items():
        if not kind.startswith("rollcall."):
            continue
        for i, r in rows:
            b = body(r)
            if isinstance(b.get("duration_seconds"), int | float):
                durations.append(b["duration_seconds"] / 60)
                roll.append(i)
            elif _time(b.get("opened")) and _time(b.get("closed")):
                durations.append((_time(b["closed"]) - _time(b["opened"])).total_seconds() / 60)
                roll.append(i)
    out["emergency-roll-call"] = [
        kpi("roll-call time (min)", _minutes(durations) if durations else None,
            f"median {_minutes(durations)['median']}, p90 {_minutes(durations)['p90']} ({len(durations)} roll calls)"
            if durations else NO_DATA, roll),
    ]

    statuses = by_kind.get("vuln.finding_status", [])
    closed_v = [i for i, r in statuses if body(r).get("to") in VULN_CLOSED]
    out["vulnerability-management"] = [
        kpi("vulnerability findings closed", len(closed_v) if statuses else None,
            f"{len(closed_v)} closed ({len(statuses)} status changes)" if statuses else NO_DATA, closed_v),
    ]
    seg = by_kind.get("segmentation.finding_closed", [])
    out["network-segmentation"] = [
        kpi("segmentation findings closed", len(seg) if seg else None, str(len(seg)) if seg else NO_DATA,
            [i for i, _ in seg]),
    ]
    changes = by_kind.get("plant.changed", [])
    actions = Counter(str(body(r).get("action")) for _, r in changes)
    out["change-control"] = [
        kpi("recorded plant changes", dict(sorted(actions.items())) if changes else None,
            ", ".join(f"{k} {n}" for k, n in sorted(actions.items())) if changes else NO_DATA,
            [i for i, _ in changes]),
    ]
    return out


def controls_document(records: Sequence[tuple[int, dict]]) -> dict[str, Any]:
    """controls.json: each control with its framework mapping, KPIs and the records that support them."""
    kpis = compute(records)
    return {"controls": [
        {"id": c.id, "title": c.title, "question": c.question,
         "mappings": {"nist_csf_2.0": list(c.nist_csf), "iec_62443_2_1": list(c.iec62443_2_1),
                      "iso_27001_2022_annex_a": list(c.iso27001)},
         "kpis": kpis[c.id]}
        for c in CONTROLS
    ]}
