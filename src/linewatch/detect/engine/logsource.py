"""Routing: which events a rule's `logsource` (product/category/service) is about.

Sigma log sources are abstract names; what they mean on real data is configuration. Here that
configuration is a table of `LogsourceRow`s: a (product, category, service) triple, the event
conditions that identify it (for Windows: `Channel`, `EventID`, and `EventType` for the Sysmon
registry split), and the field aliases the rule needs on those events (Security 4688 calls Sysmon's
`Image` `NewProcessName`). The same table drives both directions:

- **event → rules** (the fast path): an event's route key is the tuple of the router's key fields;
  the rows matching that key are found once per distinct key and cached, so routing an event costs
  one tuple build and one dict lookup;
- **rule → conditions** (the naive baseline, and documentation): a rule's logsource selects rows,
  and each row is an extra condition ANDed to the rule, as pySigma's Windows/Sysmon pipelines do.

The Windows table combines SigmaHQ's own regression map (`tests/thor.yml`), the Sysmon event-ID map
of `pysigma-pipeline-sysmon` and pySigma's service→channel table (`sigma.pipelines.common`), which we
import rather than copy so it stays in step with pySigma. docs/detection.md prints the table.

Matching a rule to rows: the rule's category must equal the row's (a rule without a category only
takes service rows, so a Security-log rule never inherits the 4688 aliases meant for
process_creation rules); product and service must be equal where the rule gives them.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sigma.pipelines.common import windows_logsource_mapping

from . import ir

Triple = tuple[str | None, str | None, str | None]  # (product, category, service)

# Distinct route keys remembered per router (and per rule set); past this the caches start over.
MAX_ROUTE_KEYS = 10_000


@dataclass(frozen=True)
class LogsourceRow:
    """One concrete meaning of a Sigma log source on events."""

    product: str | None
    category: str | None
    service: str | None
    conditions: Mapping[str, tuple[str, ...]]  # key field -> accepted values (lower-cased strings)
    aliases: Mapping[str, str] = field(default_factory=dict)  # rule field -> event key on these events

    @property
    def triple(self) -> Triple:
        return (self.product, self.category, self.service)

    def accepts(self, key: Mapping[str, str | None]) -> bool:
        return all(key.get(f) in values for f, values in self.conditions.items())

    def condition_tree(self) -> ir.Node:
        """The row as an IR condition, for evaluating a rule without routing."""
        return ir.and_(
            *(ir.or_(*(ir.Test(f, ir.EQ, v) for v in values)) for f, values in sorted(self.conditions.items()))
        )


def rule_takes_row(logsource: Triple, row: LogsourceRow) -> bool:
    """Whether a rule with this (product, category, service) applies to events of this row."""
    product, category, service = logsource
    return (
        category == row.category
        and (product is None or product == row.product)
        and (service is None or service == row.service)
    )


@dataclass(frozen=True)
class Route:
    """Everything the engine needs to know about events sharing one route key."""

    key: Hashable
    values: Mapping[str, str | None]  # the key fields' normalised values
    rows: tuple[LogsourceRow, ...]  # the table rows these events belong to, in table order
    row_ids: tuple[int, ...]  # their positions in the router's table


class Router:
    """Computes route keys from events and resolves them to table rows (cached per key)."""

    def __init__(self, rows: Sequence[LogsourceRow], key_fields: Sequence[str]) -> None:
        self.rows = tuple(rows)
        self.key_fields = tuple(key_fields)
        self._routes: dict[Hashable, Route] = {}
        missing = {f for r in self.rows for f in r.conditions} - set(self.key_fields)
        if missing:
            raise ValueError(f"row conditions use fields that are not route key fields: {sorted(missing)}")

    def key(self, event: Mapping[str, Any]) -> Hashable:
        """The raw route key: cheap, because it runs for every event."""
        get = event.get
        return tuple([get(f) for f in self.key_fields])

    def route(self, key: Hashable) -> Route:
        route = self._routes.get(key)
        if route is None:
            if len(self._routes) >= MAX_ROUTE_KEYS:  # bounded even if a key field carries unbounded values
                self._routes.clear()
            values = {f: _norm(v) for f, v in zip(self.key_fields, key, strict=True)}  # type: ignore[arg-type]
            row_ids = tuple(i for i, r in enumerate(self.rows) if r.accepts(values))
            route = self._routes[key] = Route(key, values, tuple(self.rows[i] for i in row_ids), row_ids)
        return route

    def rows_for(self, logsource: Triple) -> tuple[LogsourceRow, ...]:
        return tuple(r for r in self.rows if rule_takes_row(logsource, r))


def _norm(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).lower()


# ---------------------------------------------------------------------------------------------------
# The Windows table

SYSMON_CHANNEL = "microsoft-windows-sysmon/operational"
SECURITY_CHANNEL = "security"

# Sysmon event IDs per Sigma category (pysigma-pipeline-sysmon's table, which thor.yml agrees with).
SYSMON_CATEGORIES: dict[str, tuple[int, ...]] = {
    "process_creation": (1,),
    "file_change": (2,),
    "network_connection": (3,),
    "sysmon_status": (4, 16),
    "process_termination": (5,),
    "driver_load": (6,),
    "image_load": (7,),
    "create_remote_thread": (8,),
    "raw_access_thread": (9,),
    "process_access": (10,),
    "file_event": (11,),
    "registry_event": (12, 13, 14),
    "registry_set": (13,),
    "registry_rename": (14,),
    "create_stream_hash": (15,),
    "pipe_created": (17, 18),
    "wmi_event": (19, 20, 21),
    "dns_query": (22,),
    "file_delete": (23,),
    "clipboard_capture": (24,),
    "process_tampering": (25,),
    "file_delete_detected": (26,),
    "file_block_executable": (27,),
    "file_block_shredding": (28,),
    "file_executable_detected": (29,),
    "sysmon_error": (255,),
}
# Sysmon 12 carries both key and value creation and deletion; EventType tells them apart.
SYSMON_REGISTRY_12: dict[str, tuple[str, ...]] = {
    "registry_add": ("createkey",),
    "registry_delete": ("deletekey", "deletevalue"),
}
# (category, service, event IDs, aliases) for categories served by other channels.
OTHER_CATEGORIES: list[tuple[str, str, tuple[int, ...], dict[str, str]]] = [
    ("process_creation", "security", (4688,), {"Image": "NewProcessName", "ParentImage": "ParentProcessName"}),
    ("ps_module", "powershell", (4103,), {}),
    ("ps_script", "powershell", (4104,), {}),
    ("ps_classic_start", "powershell-classic", (400,), {}),
    ("ps_classic_provider_start", "powershell-classic", (600,), {}),
    ("ps_classic_script", "powershell-classic", (800,), {}),
    (
        "antivirus",
        "windefend",
        (1006, 1007, 1008, 1009, 1010, 1011, 1012, 1017, 1018, 1019, 1115, 1116),
        {"Signature": "ThreatName", "Filename": "Path"},
    ),
]


def _channels(service: str) -> tuple[str, ...]:
    channels = windows_logsource_mapping[service]
    return tuple(c.lower() for c in ([channels] if isinstance(channels, str) else channels))


def _ids(ids: Sequence[int]) -> tuple[str, ...]:
    return tuple(str(i) for i in ids)


def windows_rows() -> list[LogsourceRow]:
    """The Windows table: service rows first, then category rows (see module doc for why)."""
    rows = [
        LogsourceRow("windows", None, service, {"Channel": _channels(service)}) for service in windows_logsource_mapping
    ]
    for category, ids in SYSMON_CATEGORIES.items():
        rows.append(LogsourceRow("windows", category, "sysmon", {"Channel": (SYSMON_CHANNEL,), "EventID": _ids(ids)}))
    for category, types in SYSMON_REGISTRY_12.items():
        rows.append(
            LogsourceRow(
                "windows",
                category,
                "sysmon",
                {"Channel": (SYSMON_CHANNEL,), "EventID": ("12",), "EventType": types},
            )
        )
    for category, service, ids, aliases in OTHER_CATEGORIES:
        rows.append(
            LogsourceRow("windows", category, service, {"Channel": _channels(service), "EventID": _ids(ids)}, aliases)
        )
    return rows


WINDOWS_KEY_FIELDS = ("Channel", "EventID", "EventType")


def windows_router() -> Router:
    """The router for flattened Windows events (see flatten.py)."""
    return Router(windows_rows(), WINDOWS_KEY_FIELDS)
