"""Consequence: given assets down or compromised, which lines stop or degrade and what it costs.

Plain Python, no Django: the graph is built once from the plant model (see
`linewatch.core.services.plant_graph`) and answers a query by propagating failures only
through what the failed assets touch, so a plant of thousands of assets answers in well
under a millisecond per failed asset.

Semantics:
- A dependency group fails when fewer than `required` of its members are up. A redundant
  pair (`required=1`) fails only when both are down.
- An asset that depends on a failed group is itself down (a PLC behind a dead switch), and
  the failure propagates onward. A compromised asset counts as down: an attacker can stop it.
- A line stops when any `stops` group fails; otherwise it is degraded when a `degrades` group
  fails, losing `capacity_loss` of its output (default `DEFAULT_CAPACITY_LOSS`).
- A group that lost members but still holds is reported as redundancy lost: the line runs,
  one failure away from stopping.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

DEFAULT_CAPACITY_LOSS = 0.5


@dataclass(frozen=True, slots=True)
class Group:
    """A dependency: `required` of `members` (asset keys) must be up."""

    name: str
    members: tuple[str, ...]
    required: int = 1
    effect: str = "stops"  # or "degrades"; only meaningful for lines
    capacity_loss: float | None = None


@dataclass(frozen=True, slots=True)
class LineSpec:
    key: str
    name: str
    site: str
    downtime_cost_per_hour: float = 0.0
    trucks_per_day: int = 0
    perishable_value: float = 0.0
    hours_to_spoil: float | None = None
    safety_critical: bool = False
    groups: tuple[Group, ...] = ()


@dataclass(frozen=True, slots=True)
class AssetSpec:
    key: str
    name: str
    site: str
    kind: str
    groups: tuple[Group, ...] = ()  # what this asset itself needs running


@dataclass(slots=True)
class GroupFailure:
    group: str
    effect: str
    required: int
    members: tuple[str, ...]
    down: list[str]

    def as_dict(self) -> dict:
        return {"group": self.group, "effect": self.effect, "required": self.required,
                "members": list(self.members), "down": self.down}


@dataclass(slots=True)
class LineImpact:
    line: LineSpec
    status: str  # "stopped", "degraded" or "redundancy_lost"
    capacity_loss: float
    failed_groups: list[GroupFailure] = field(default_factory=list)
    weakened_groups: list[GroupFailure] = field(default_factory=list)

    @property
    def cost_per_hour(self) -> float:
        return self.line.downtime_cost_per_hour * self.capacity_loss

    @property
    def trucks_per_day(self) -> float:
        return self.line.trucks_per_day * self.capacity_loss

    def hours_left(self, hours_down: float) -> float | None:
        """Hours before the perishable stock spoils, once stopped; None where nothing spoils."""
        if self.status != "stopped" or not self.line.perishable_value or self.line.hours_to_spoil is None:
            return None
        return max(self.line.hours_to_spoil - hours_down, 0.0)


@dataclass(slots=True)
class Consequence:
    failed: list[str]  # the asset keys asked about
    unknown: list[str]  # keys not in the model
    parents: dict[str, str | None]  # every asset down -> the down asset that brought it down (None: failed input)
    lines: list[LineImpact]
    names: dict[str, AssetSpec]
    hours_down: float = 0.0

    def chain(self, key: str) -> list[str]:
        """Asset names from a failed input to `key`: why `key` is down."""
        out = []
        current: str | None = key
        while current is not None:
            out.append(self.names[current].name)
            current = self.parents[current]
        return out[::-1]

    @property
    def down(self) -> dict[str, list[str]]:
        return {key: self.chain(key) for key in self.parents}

    @property
    def stopped(self) -> list[LineImpact]:
        return [li for li in self.lines if li.status == "stopped"]

    @property
    def degraded(self) -> list[LineImpact]:
        return [li for li in self.lines if li.status == "degraded"]

    @property
    def cost_per_hour(self) -> float:
        return sum(li.cost_per_hour for li in self.lines)

    @property
    def trucks_per_day(self) -> float:
        return sum(li.trucks_per_day for li in self.lines)

    @property
    def perishable_value_at_risk(self) -> float:
        return sum(li.line.perishable_value for li in self.stopped)

    @property
    def hours_to_first_spoilage(self) -> float | None:
        left = [h for li in self.stopped if (h := li.hours_left(self.hours_down)) is not None]
        return min(left) if left else None

    @property
    def safety_critical(self) -> bool:
        return any(li.line.safety_critical for li in self.lines if li.status != "redundancy_lost")


class PlantGraph:
    """The dependency graph of lines on assets and assets on assets, indexed for propagation."""

    def __init__(self, assets: Iterable[AssetSpec], lines: Iterable[LineSpec]) -> None:
        self.assets: dict[str, AssetSpec] = {a.key: a for a in assets}
        self.lines: list[LineSpec] = list(lines)
        # member asset -> the (dependent asset, group) pairs it takes part in
        self._asset_uses: dict[str, list[tuple[str, Group]]] = {}
        for asset in self.assets.values():
            for group in asset.groups:
                for member in group.members:
                    self._asset_uses.setdefault(member, []).append((asset.key, group))
        # member asset -> the (line index, group) pairs it takes part in
        self._line_uses: dict[str, list[tuple[int, Group]]] = {}
        for index, line in enumerate(self.lines):
            for group in line.groups:
                for member in group.members:
                    self._line_uses.setdefault(member, []).append((index, group))

    def name(self, key: str) -> str:
        asset = self.assets.get(key)
        return asset.name if asset else key

    def evaluate(self, failed: Iterable[str], hours_down: float = 0.0) -> Consequence:
        failed = list(dict.fromkeys(failed))
        unknown = [k for k in failed if k not in self.assets]
        chains: dict[str, str | None] = {k: None for k in failed if k in self.assets}
        queue = deque(chains)
        lost: dict[int, int] = {}  # id(group) -> members down, for asset groups
        while queue:
            key = queue.popleft()
            for dependent, group in self._asset_uses.get(key, ()):
                lost[id(group)] = lost.get(id(group), 0) + 1
                if dependent in chains:
                    continue
                if len(group.members) - lost[id(group)] < group.required:
                    chains[dependent] = key
                    queue.append(dependent)

        touched: dict[int, dict[int, tuple[Group, list[str]]]] = {}
        for key in chains:
            for index, group in self._line_uses.get(key, ()):
                entry = touched.setdefault(index, {}).setdefault(id(group), (group, []))
                entry[1].append(key)

        impacts = []
        for index, groups in touched.items():
            line = self.lines[index]
            failed_groups, weakened = [], []
            for group, down in groups.values():
                record = GroupFailure(group.name, group.effect, group.required, tuple(map(self.name, group.members)),
                                      sorted(map(self.name, down)))
                if len(group.members) - len(down) < group.required:
                    failed_groups.append(record)
                else:
                    weakened.append(record)
            if any(g.effect == "stops" for g in failed_groups):
                status, loss = "stopped", 1.0
            elif failed_groups:
                status = "degraded"
                by_name = {g.name: g for g in line.groups}
                loss = min(1.0, max(
                    (by_name[g.group].capacity_loss if by_name[g.group].capacity_loss is not None
                     else DEFAULT_CAPACITY_LOSS) for g in failed_groups
                ))
            else:
                status, loss = "redundancy_lost", 0.0
            impacts.append(LineImpact(line, status, loss, failed_groups, weakened))
        order = {"stopped": 0, "degraded": 1, "redundancy_lost": 2}
        impacts.sort(key=lambda i: (order[i.status], -i.cost_per_hour, i.line.key))
        return Consequence(failed, unknown, chains, impacts, self.assets, hours_down)
