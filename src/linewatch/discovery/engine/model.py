"""Plain-data records the discovery engine produces: observations, devices and talkers.

Every attribute of a device is an observation that keeps its provenance (protocol and message it
came from, packet number and time, confidence); conflicting values are kept side by side, never
overwritten, so reconciliation and drift detection can see them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


@dataclass(slots=True)
class Observation:
    attribute: str  # vendor, model, firmware, serial, hostname, order_number, ...
    value: str
    source: str  # protocol/message, e.g. "enip/ListIdentity", "oui"
    file: str
    packet: int  # 1-based frame number in the file (0 when not from a packet)
    time: float | None
    confidence: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute, "value": self.value, "source": self.source, "file": self.file,
            "packet": self.packet, "time": iso(self.time), "confidence": self.confidence,
        }


@dataclass(slots=True)
class Device:
    """One device seen on the wire, keyed by IP (or by MAC for devices seen only at layer 2)."""

    key: str
    ip: str | None = None
    macs: dict[str, int] = field(default_factory=dict)  # MAC -> packets sent with this IP as source
    first_seen: float | None = None
    last_seen: float | None = None
    packets: int = 0  # packets of every flow (or layer-2 frame) it took part in
    protocols: dict[str, set[str]] = field(default_factory=dict)  # protocol -> {"client", "server", "peer"}
    observations: list[Observation] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set)  # (attribute, value) already observed
    kind: str | None = None
    kind_reason: str | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def mac(self) -> str | None:
        return max(self.macs, key=self.macs.__getitem__) if self.macs else None

    def observe(self, obs: Observation) -> None:
        """Keep the first observation of each (attribute, value); later sightings only confirm it."""
        k = (obs.attribute, obs.value)
        if k not in self._seen:
            self._seen.add(k)
            self.observations.append(obs)

    def best(self, attribute: str) -> str | None:
        """The most confident value of an attribute (first seen wins a tie)."""
        best: Observation | None = None
        for o in self.observations:
            if o.attribute == attribute and (best is None or o.confidence > best.confidence):
                best = o
        return best.value if best else None

    def values(self, attribute: str) -> list[str]:
        return [o.value for o in self.observations if o.attribute == attribute]

    def protocol_roles(self) -> dict[str, list[str]]:
        return {p: sorted(r) for p, r in sorted(self.protocols.items())}

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "ip": self.ip, "mac": self.mac, "macs": sorted(self.macs),
            "vendor": self.best("vendor"), "kind": self.kind, "kind_reason": self.kind_reason,
            "model": self.best("model"), "firmware": self.best("firmware"), "serial": self.best("serial"),
            "hostname": self.best("hostname"), "protocols": self.protocol_roles(),
            "first_seen": iso(self.first_seen), "last_seen": iso(self.last_seen), "packets": self.packets,
            "findings": self.findings, "observations": [o.as_dict() for o in self.observations],
        }


@dataclass(slots=True)
class Talker:
    """Who speaks to whom on which service (client -> server:port/transport), for segmentation."""

    client: str
    server: str
    transport: str  # tcp, udp
    port: int
    service: str | None
    packets: int = 0
    bytes: int = 0
    flows: int = 0
    first_seen: float | None = None
    last_seen: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client, "server": self.server, "transport": self.transport, "port": self.port,
            "service": self.service, "packets": self.packets, "bytes": self.bytes, "flows": self.flows,
            "first_seen": iso(self.first_seen), "last_seen": iso(self.last_seen),
        }
