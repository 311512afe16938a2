"""Sigma correlation rules as streaming, event-time operators (no Django; see docs/correlation.md).

The single-event matcher says which base rules an event matched; this engine keeps, per
(correlation, group key), the recent matches in event-time order and fires a `CorrelationHit` when
the correlation's condition holds over a sliding window of `timespan`:

    engine = CorrelationEngine.from_paths(["rules/"])
    for event in stream:                       # every event, matched or not: it moves event time
        matches = ruleset.match(event)         # anything with .rule_id/.name, or id/name strings
        for hit in engine.process(event, event.time, matches):
            if hit.output:
                alert(hit)
    engine.flush()                             # end of a replay only: release the buffer, close windows

Semantics, in short (the full version, with the reasons, is in docs/correlation.md):

- **Ordering.** Events are buffered and released in (time, arrival) order once the watermark
  (highest time seen − `allowed_lateness_ms`) has passed them, so out-of-order input within the
  lateness behaves exactly like ordered input. An event older than the watermark is *late*: it is
  still counted if it falls inside its group's current window, never re-opens a closed one, and is
  dropped for `temporal_ordered` (its order relative to what was already evaluated is gone).
- **Windows.** A window is [t − timespan, t], both ends included. Conditions with only lower
  bounds (`gt`/`gte`, the common case) are evaluated on the window ending at each event and fire
  the moment they hold. Conditions with an upper bound (`lt`, `lte`, `eq`, `neq`, ranges) and
  extended conditions using `not` (and value_percentile's share mode) can only be decided once the
  window is complete: a window opens
  at a group's first event, closes at open + timespan when the watermark passes it, and is
  evaluated then.
- **One hit per window.** After an eager hit the group's window is emptied and its matches during
  the next timespan are absorbed into that hit (not counted again), so a sustained burst alerts
  once per timespan and the next hit is built only from events after the quiet period.
- **Chaining.** A hit is fed, at its time, to the correlations that reference its rule.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import itertools
import json
import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaRule

from . import correlation_rules as _rules
from .correlation_rules import CompiledCorrelation, CorrelationIssue, CorrelationSet

__all__ = [
    "CorrelationConfig",
    "CorrelationEngine",
    "CorrelationHit",
    "CorrelationIssue",
    "CorrelationSet",
    "CorrelationStats",
]

_NEVER = -(2**62)  # "before any event time": the initial watermark and quiet-until
_SNAPSHOT_VERSION = 1

# One match of one correlation position, kept in a group's window:
# (time_ms, seq, position, value, event uids, exported fields or None)
Entry = tuple[int, int, int, Any, tuple[str, ...], Mapping[str, Any] | None]
# One subscription's projection of an event: (correlation index, position, group key, value, fields)
Projection = tuple[int, int, tuple[Any, ...], Any, Mapping[str, Any] | None]


@dataclass(frozen=True)
class CorrelationConfig:
    """Knobs of the engine; the defaults suit one plant partition."""

    allowed_lateness_ms: int = 5_000
    # Window entries kept per (correlation, group); beyond it the oldest are dropped (counted in stats).
    max_events_per_group: int = 10_000
    # Groups kept per correlation; beyond it idle groups are expired, then the least recent evicted.
    max_groups_per_rule: int = 200_000
    # An event lacking a group-by field: "skip" it for that correlation (like Splunk's `stats by`), or
    # group it under null (like ES|QL's STATS … BY).
    missing_group_field: Literal["skip", "null"] = "skip"
    # Event-time interval between sweeps that expire idle groups.
    sweep_interval_ms: int = 300_000
    # Buffered (not yet released) events at most; beyond it the oldest are released early.
    max_buffered_events: int = 1_000_000
    # Event uids a hit carries at most: the latest ones (a temporal window can hold thousands).
    max_uids_per_hit: int = 1_000


@dataclass
class CorrelationStats:
    """Counters a partition owner exports as metrics."""

    events: int = 0
    projections: int = 0
    released: int = 0
    late_counted: int = 0
    late_dropped: int = 0
    missing_group_field: int = 0
    missing_value: int = 0
    capped_entries: int = 0
    expired_groups: int = 0
    evicted_groups: int = 0
    forced_releases: int = 0
    absorbed: int = 0
    hits: int = 0


@dataclass(frozen=True)
class CorrelationHit:
    """One correlation firing for one group and window.

    `event_uids` are the contributing events (for a chained correlation: the base events behind the
    hits it consumed). `hit_id` is deterministic (rule, group, window start, first event), so replays
    after a restart produce the same id and the sink can deduplicate. `output` is False for a
    correlation referenced by another with `generate: false`: it feeds the chain but is no alert.
    """

    hit_id: str
    rule_id: str | None
    name: str | None
    title: str
    level: str | None
    tags: tuple[str, ...]
    type: str
    group: Mapping[str, Any]
    event_uids: tuple[str, ...]
    window_start_ms: int
    window_end_ms: int
    time_ms: int
    value: float
    output: bool
    source: str
    fields: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def as_event(self) -> dict[str, Any]:
        """The hit as an event for correlations chained on it: the triggering event's exported
        fields, overlaid with the group-by values, plus `uid`, `time` and the rule's identity."""
        return {**self.fields, **self.group, "uid": self.hit_id, "time": self.time_ms,
                "rule_id": self.rule_id, "rule_title": self.title}


class _Group:
    """State of one (correlation, group key)."""

    __slots__ = ("agg", "entries", "last", "quiet_until", "start")

    def __init__(self, agg: Any) -> None:
        self.entries: deque[Entry] = deque()
        self.agg = agg
        self.last = _NEVER  # latest entry time
        self.quiet_until = _NEVER  # eager mode: no new hit while time <= quiet_until
        self.start: int | None = None  # close mode: the open window's start


# ---------------------------------------------------------------------------------------------
# Operators: one per correlation type. Each keeps an incremental aggregate beside the group's
# entries (add/remove as entries enter and leave the window) and measures it.


class _Operator:
    """Shared behaviour; subclasses define the aggregate."""

    def __init__(self, corr: CompiledCorrelation, index: int) -> None:
        self.corr = corr
        self.index = index
        self.span = corr.timespan_ms
        self.cond = corr.condition.compiled() if corr.condition is not None else None
        self.groups: dict[tuple[Any, ...], _Group] = {}
        # temporal types record which rule matched; the others count events once whatever matched
        self.per_rule = corr.type in ("temporal", "temporal_ordered")
        self.numeric = corr.type in _rules.NUMERIC_TYPES and not corr.share_mode
        self.eager = corr.eager
        self.uid_limit = 1_000  # set by the engine from its config

    def new_agg(self) -> Any:
        return None

    def add(self, agg: Any, e: Entry) -> None:  # noqa: B027 - optional hook
        pass

    def remove(self, agg: Any, e: Entry) -> None:  # noqa: B027 - optional hook
        pass

    def measure(self, g: _Group, t: int, e: Entry | None) -> float:
        raise NotImplementedError

    def check(self, g: _Group, t: int, e: Entry | None) -> tuple[float, int, tuple[str, ...]] | None:
        """(value, window start, contributing uids) when the condition holds over the group's
        current window (ending at `t`; `e` is the entry that just arrived, None at window close)."""
        value = self.measure(g, t, e)
        assert self.cond is not None
        if not self.cond(value):
            return None
        return value, g.entries[0][0], _uids(g.entries, self.uid_limit)

    def export(self, g: _Group) -> Mapping[str, Any] | None:
        return g.entries[-1][5] if g.entries else None


def _uids(entries: Sequence[Entry] | deque[Entry], limit: int) -> tuple[str, ...]:
    """The contributing events' uids, deduplicated, in time order; the latest `limit` of them."""
    if len(entries) > limit:
        entries = list(itertools.islice(entries, len(entries) - limit, None))
    uids = tuple(dict.fromkeys(u for e in entries for u in e[4]))
    return uids[-limit:] if len(uids) > limit else uids


class _EventCount(_Operator):
    def measure(self, g: _Group, t: int, e: Entry | None) -> float:
        return len(g.entries)

    def check(self, g: _Group, t: int, e: Entry | None) -> tuple[float, int, tuple[str, ...]] | None:
        n = len(g.entries)
        if not self.cond(n):  # type: ignore[misc]
            return None
        return n, g.entries[0][0], _uids(g.entries, self.uid_limit)


class _ValueCount(_Operator):
    """Distinct values of the condition field: a value -> occurrences map."""

    def new_agg(self) -> dict[Any, int]:
        return {}

    def add(self, agg: dict[Any, int], e: Entry) -> None:
        agg[e[3]] = agg.get(e[3], 0) + 1

    def remove(self, agg: dict[Any, int], e: Entry) -> None:
        n = agg[e[3]] - 1
        if n:
            agg[e[3]] = n
        else:
            del agg[e[3]]

    def measure(self, g: _Group, t: int, e: Entry | None) -> float:
        return len(g.agg)

    def check(self, g: _Group, t: int, e: Entry | None) -> tuple[float, int, tuple[str, ...]] | None:
        n = len(g.agg)
        if not self.cond(n):  # type: ignore[misc]
            return None
        return n, g.entries[0][0], _uids(g.entries, self.uid_limit)


class _ValueSum(_Operator):
    """Running [sum, count] of the numeric condition field."""

    def new_agg(self) -> list[float]:
        return [0, 0]

    def add(self, agg: list[float], e: Entry) -> None:
        agg[0] += e[3]
        agg[1] += 1

    def remove(self, agg: list[float], e: Entry) -> None:
        agg[1] -= 1
        agg[0] = agg[0] - e[3] if agg[1] else 0  # reset so float drift cannot accumulate

    def measure(self, g: _Group, t: int, e: Entry | None) -> float:
        return g.agg[0]


class _ValueAvg(_ValueSum):
    def measure(self, g: _Group, t: int, e: Entry | None) -> float:
        return g.agg[0] / g.agg[1] if g.agg[1] else math.nan


class _ValuePercentile(_Operator):
    """The P-th percentile (linear interpolation, as numpy's default) over a sorted list of values."""

    def __init__(self, corr: CompiledCorrelation, index: int) -> None:
        super().__init__(corr, index)
        assert corr.percentile is not None
        self.q = corr.percentile / 100.0

    def new_agg(self) -> list[float]:
        return []

    def add(self, agg: list[float], e: Entry) -> None:
        bisect.insort(agg, e[3])

    def remove(self, agg: list[float], e: Entry) -> None:
        del agg[bisect.bisect_left(agg, e[3])]

    def measure(self, g: _Group, t: int, e: Entry | None) -> float:
        values = g.agg
        if not values:
            return math.nan
        pos = (len(values) - 1) * self.q
        lo = math.floor(pos)
        hi = min(lo + 1, len(values) - 1)
        return values[lo] + (values[hi] - values[lo]) * (pos - lo)


class _ValueShare(_ValueCount):
    """value_percentile without `percentile:` — the spec example "a process name making up at most
    1 % of a computer's processes": the share, in percent, of the window's events carrying a value.

    Always decided at window close (a first event is 100 % of its window): every value is measured
    and the hit names the events of the values that satisfy the condition."""

    def measure(self, g: _Group, t: int, e: Entry | None) -> float:
        n = len(g.entries)
        if e is None or not n:
            return math.nan
        return 100.0 * g.agg.get(e[3], 0) / n

    def check(self, g: _Group, t: int, e: Entry | None) -> tuple[float, int, tuple[str, ...]] | None:
        assert self.cond is not None
        n = len(g.entries)
        if not n:
            return None
        chosen = {v: 100.0 * c / n for v, c in g.agg.items() if self.cond(100.0 * c / n)}
        if not chosen:
            return None
        members = [x for x in g.entries if x[3] in chosen]
        return min(chosen.values()), g.entries[0][0], _uids(members, self.uid_limit)


class _Temporal(_Operator):
    """Distinct referenced rules seen in the window: occurrence counts per rule, plus (last
    element) how many rules have a non-zero count, kept up to date so measuring is O(1)."""

    def __init__(self, corr: CompiledCorrelation, index: int) -> None:
        super().__init__(corr, index)
        distinct = list(dict.fromkeys(p.target for p in corr.positions))
        self.targets = distinct
        self.slot = [distinct.index(p.target) for p in corr.positions]  # position -> rule slot
        self.expression = corr.expression

    def new_agg(self) -> list[int]:
        return [0] * (len(self.targets) + 1)

    def add(self, agg: list[int], e: Entry) -> None:
        i = self.slot[e[2]]
        if not agg[i]:
            agg[-1] += 1
        agg[i] += 1

    def remove(self, agg: list[int], e: Entry) -> None:
        i = self.slot[e[2]]
        agg[i] -= 1
        if not agg[i]:
            agg[-1] -= 1

    def measure(self, g: _Group, t: int, e: Entry | None) -> float:
        return g.agg[-1]

    def check(self, g: _Group, t: int, e: Entry | None) -> tuple[float, int, tuple[str, ...]] | None:
        if self.expression is None:
            n = g.agg[-1]
            if not self.cond(n):  # type: ignore[misc]
                return None
        else:
            seen = frozenset(self.targets[i] for i, c in enumerate(g.agg[:-1]) if c)
            if not self.expression(seen):
                return None
            n = len(seen)
        return n, g.entries[0][0], _uids(g.entries, self.uid_limit)


class _TemporalOrdered(_Operator):
    """The referenced rules in the listed order, all within the timespan.

    The aggregate is, per position i, the in-order chain (rule 0 → … → rule i) with the latest
    possible start, its events, and the sequence number of its last event: a new match of rule i
    extends the best chain of position i−1 if that chain is still within the timespan. Keeping the
    *latest* start is enough: any chain that could still complete within the timespan starts no
    earlier. Ties in time are ordered by arrival (the release order), like EQL's tiebreaker.
    """

    def __init__(self, corr: CompiledCorrelation, index: int) -> None:
        super().__init__(corr, index)
        self.n = len(corr.positions)

    def new_agg(self) -> list[tuple[int, tuple[str, ...], int] | None]:
        return [None] * self.n

    def add(self, agg: list[tuple[int, tuple[str, ...], int] | None], e: Entry) -> None:
        t, seq, p, _, uids, _ = e
        if p == 0:
            agg[0] = (t, uids, seq)
            return
        prev = agg[p - 1]
        if prev is None or prev[0] < t - self.span:
            return
        best = agg[p]
        if best is None or prev[0] >= best[0]:
            agg[p] = (prev[0], prev[1] + uids, seq)

    def _best(self, g: _Group, t: int) -> tuple[int, tuple[int, tuple[str, ...], int] | None]:
        for i in range(self.n - 1, -1, -1):
            chain = g.agg[i]
            if chain is not None and chain[0] >= t - self.span:
                return i + 1, chain
        return 0, None

    def measure(self, g: _Group, t: int, e: Entry | None) -> float:
        return self._best(g, t)[0]

    def check(self, g: _Group, t: int, e: Entry | None) -> tuple[float, int, tuple[str, ...]] | None:
        assert self.cond is not None
        if e is not None:
            # Eagerly, only the chain the arriving event just extended can fire: a chain completed
            # during a quiet period is not reported later on some unrelated event.
            chain = g.agg[e[2]]
            if chain is None or chain[2] != e[1]:
                return None
            length = e[2] + 1
        else:
            length, chain = self._best(g, t)
        if not self.cond(length):
            return None
        if chain is None:
            return length, g.entries[0][0] if g.entries else t, ()
        uids = tuple(dict.fromkeys(chain[1]))
        return length, chain[0], uids[-self.uid_limit:]


_OPERATORS: dict[str, type[_Operator]] = {
    "event_count": _EventCount,
    "value_count": _ValueCount,
    "value_sum": _ValueSum,
    "value_avg": _ValueAvg,
    "value_percentile": _ValuePercentile,
    "value_median": _ValuePercentile,
    "temporal": _Temporal,
    "temporal_ordered": _TemporalOrdered,
}


def _operator(corr: CompiledCorrelation, index: int) -> _Operator:
    if corr.share_mode:
        return _ValueShare(corr, index)
    return _OPERATORS[corr.type](corr, index)


# ---------------------------------------------------------------------------------------------
# Field access and value normalisation


def _lookup(event: Any, path: str) -> Any:
    """A field by flat key (OCSF paths are flat keys in our events), else by walking nested maps."""
    value = event.get(path)
    if value is None and "." in path and isinstance(event, Mapping):
        node: Any = event
        for part in path.split("."):
            if not isinstance(node, Mapping):
                return None
            node = node.get(part)
            if node is None:
                return None
        return node
    return value


def _freeze(value: Any) -> Any:
    """A hashable, serialisable form of an event value (group keys and distinct values)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _numeric(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _thaw_key(value: Any) -> Any:
    """msgpack turns tuples into lists; keys and values must be tuples again."""
    if isinstance(value, list):
        return tuple(_thaw_key(v) for v in value)
    return value


# ---------------------------------------------------------------------------------------------
# The engine


class CorrelationEngine:
    """Runs compiled correlations over a stream of (event, time, matched rule ids/names).

    One engine is one partition's state (e.g. one site): feed it that partition's events in
    roughly increasing time. It is not thread-safe; hand its state on with snapshot()/restore().
    """

    def __init__(self, correlations: CorrelationSet, config: CorrelationConfig | None = None) -> None:
        self.config = config or CorrelationConfig()
        self.correlations = correlations
        self.issues: list[CorrelationIssue] = list(correlations.issues)
        self.stats = CorrelationStats()
        self._ops: list[_Operator] = [_operator(c, i) for i, c in enumerate(correlations.correlations)]
        for op in self._ops:
            op.uid_limit = self.config.max_uids_per_hit
        self._by_key = {op.corr.key: op for op in self._ops}
        # matched id/name -> (correlation index, position), ordered so that a correlation runs after
        # those it consumes and a rule listed twice in one correlation is seen at its later place first
        subs: dict[str, set[tuple[int, int]]] = {}
        consumers: list[list[tuple[int, int]]] = [[] for _ in self._ops]
        for op in self._ops:
            for p, pos in enumerate(op.corr.positions):
                if pos.is_correlation:
                    consumers[self._by_key[pos.target].index].append((op.index, p))
                else:
                    for ref in {pos.target, *pos.identifiers}:
                        subs.setdefault(ref, set()).add((op.index, p))
        self._subs: dict[str, tuple[tuple[int, int], ...]] = {
            ref: tuple(sorted(s, key=lambda cp: (cp[0], -cp[1]))) for ref, s in subs.items()
        }
        self._consumers = [tuple(sorted(c, key=lambda cp: (cp[0], -cp[1]))) for c in consumers]
        self._silenced = correlations.silenced_rules
        self._skip_missing = self.config.missing_group_field == "skip"
        self._cap = self.config.max_events_per_group
        self._reset_time()

    def _reset_time(self) -> None:
        self._max_seen = _NEVER
        self._watermark = _NEVER
        self._seq = 0
        self._next_sweep = _NEVER
        # (time, seq, uid, projections): events waiting for the watermark
        self._buffer: list[tuple[int, int, str | None, list[Projection]]] = []
        # (window end, seq, correlation index, group key, window start): close-mode windows
        self._timers: list[tuple[int, int, int, tuple[Any, ...], int]] = []
        for op in self._ops:
            op.groups.clear()

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def from_collection(
        cls,
        collection: SigmaCollection | Iterable[SigmaRule | SigmaCorrelationRule],
        *,
        known_rules: Iterable[str] = (),
        config: CorrelationConfig | None = None,
    ) -> CorrelationEngine:
        """From pySigma objects (a collection, or e.g. the matcher loader's parsed rules)."""
        config = config or CorrelationConfig()
        return cls(_rules.load(collection, known_rules=known_rules,
                               max_events_per_group=config.max_events_per_group), config)

    @classmethod
    def from_texts(
        cls,
        texts: Iterable[tuple[str, str]],
        *,
        known_rules: Iterable[str] = (),
        config: CorrelationConfig | None = None,
    ) -> CorrelationEngine:
        """From (source name, YAML text) pairs; the names appear in issues and hits."""
        config = config or CorrelationConfig()
        return cls(_rules.load_texts(texts, known_rules=known_rules,
                                     max_events_per_group=config.max_events_per_group), config)

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<yaml>", known_rules: Iterable[str] = (),
                  config: CorrelationConfig | None = None) -> CorrelationEngine:
        return cls.from_texts([(source, text)], known_rules=known_rules, config=config)

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path], *, known_rules: Iterable[str] = (),
                   config: CorrelationConfig | None = None) -> CorrelationEngine:
        """From YAML files and folders (searched for *.yml / *.yaml)."""
        return cls.from_texts(_rules.read_paths(paths), known_rules=known_rules, config=config)

    # --- what the stream processor asks ----------------------------------------------------

    @property
    def watermark_ms(self) -> int | None:
        return None if self._watermark == _NEVER else self._watermark

    def references(self) -> frozenset[str]:
        """Every base-rule id/name some correlation consumes (pass at least these in `matched`)."""
        return frozenset(self._subs)

    def standalone(self, rule: str) -> bool:
        """Whether a base rule's own matches should alert: False when a correlation referencing it
        has `generate: false` (the default), i.e. it only exists to feed the correlation."""
        return rule not in self._silenced and _rules.canonical_reference(rule) not in self._silenced

    def process(self, event: Any, time_ms: int, matched: Iterable[Any]) -> list[CorrelationHit]:
        """Feed one event: `matched` are the ids and names of the base rules it matched (strings, or
        objects with `rule_id`/`name`). Returns the hits released by this call — with lateness they
        may belong to earlier events. Call it for unmatched events too (with `matched=()`): every
        event moves event time forward, which closes windows and releases buffered events."""
        self.stats.events += 1
        out: list[CorrelationHit] = []
        found: set[tuple[int, int]] | tuple[tuple[int, int], ...] = ()
        subs = self._subs
        for m in matched:
            if isinstance(m, str):
                s = subs.get(m)
                if s:
                    found = s if not found else {*found, *s}
            else:
                for attr in (getattr(m, "rule_id", None), getattr(m, "name", None)):
                    s = subs.get(attr) if attr else None
                    if s:
                        found = s if not found else {*found, *s}
        time_ms = int(time_ms)
        if found:
            if isinstance(found, set):
                found = tuple(sorted(found, key=lambda cp: (cp[0], -cp[1])))
            projections = self._project(event, found)
            if projections:
                uid = event.get("uid")
                uid = None if uid is None else str(uid)
                if time_ms < self._watermark:
                    uids = (uid,) if uid else ()
                    for c, p, key, value, fields in projections:
                        self._accept(c, p, key, value, uids, fields, time_ms, out, True)
                else:
                    self._seq += 1
                    heapq.heappush(self._buffer, (time_ms, self._seq, uid, projections))
                    if len(self._buffer) > self.config.max_buffered_events:
                        self.stats.forced_releases += 1
                        self._advance(self._buffer[0][0], out)
        if time_ms > self._max_seen:
            self._max_seen = time_ms
        self._advance(self._max_seen - self.config.allowed_lateness_ms, out)
        return out

    def advance(self, time_ms: int) -> list[CorrelationHit]:
        """Move event time without an event (a heartbeat on a quiet partition), so that windows
        waiting to close — "fewer than N in 10 minutes" — close on time."""
        out: list[CorrelationHit] = []
        if time_ms > self._max_seen:
            self._max_seen = int(time_ms)
        self._advance(self._max_seen - self.config.allowed_lateness_ms, out)
        return out

    def flush(self) -> list[CorrelationHit]:
        """End of input: release every buffered event and close every open window."""
        out: list[CorrelationHit] = []
        self._advance(2**62, out)
        return out

    # --- intake ------------------------------------------------------------------------------

    def _project(self, event: Any, found: Sequence[tuple[int, int]]) -> list[Projection]:
        """What each subscribed correlation needs of the event: group key, value, exported fields."""
        out: list[Projection] = []
        skip_missing = self._skip_missing
        ops = self._ops
        get = event.get
        counted = -1
        for c, p in found:
            op = ops[c]
            if c == counted and not op.per_rule:
                continue  # counting types count events: one matching two listed rules counts once
            corr = op.corr
            pos = corr.positions[p]
            key_parts = []
            for f in pos.group_fields:
                v = get(f)
                if v is None and "." in f:
                    v = _lookup(event, f)
                if v is None:
                    if skip_missing:
                        break
                elif v.__class__ is not str:
                    v = _freeze(v)
                key_parts.append(v)
            else:
                value: Any = None
                if pos.value_fields:
                    if len(pos.value_fields) == 1:
                        value = _lookup(event, pos.value_fields[0])
                        value = _numeric(value) if op.numeric else _freeze(value)
                    else:
                        parts = tuple(_freeze(_lookup(event, f)) for f in pos.value_fields)
                        value = None if all(v is None for v in parts) else parts
                    if value is None:
                        self.stats.missing_value += 1
                        continue
                exported = corr.export_fields
                fields = {f: _freeze(_lookup(event, f)) for f in exported} if exported else None
                out.append((c, p, tuple(key_parts), value, fields))
                counted = c
                continue
            self.stats.missing_group_field += 1
        self.stats.projections += len(out)
        return out

    # --- time --------------------------------------------------------------------------------

    def _advance(self, watermark: int, out: list[CorrelationHit]) -> None:
        """Raise the watermark and release, in time order, buffered events and due window closes.

        An event at time t is released once t <= watermark; a window ending at e closes once
        e < watermark, i.e. after every event at time e has been released (both ends are in)."""
        if watermark > self._watermark:
            self._watermark = watermark
        wm = self._watermark
        buffer, timers = self._buffer, self._timers
        while True:
            if buffer and buffer[0][0] <= wm and not (timers and timers[0][0] < buffer[0][0]):
                t, _, uid, projections = heapq.heappop(buffer)
                self.stats.released += 1
                uids = (uid,) if uid else ()
                for c, p, key, value, fields in projections:
                    self._accept(c, p, key, value, uids, fields, t, out, False)
            elif timers and timers[0][0] < wm:
                end, _, c, key, start = heapq.heappop(timers)
                self._close(c, key, start, end, out)
            else:
                break
        if wm >= self._next_sweep:
            self._sweep()
            self._next_sweep = wm + self.config.sweep_interval_ms

    # --- state updates -------------------------------------------------------------------

    def _new_group(self, op: _Operator, key: tuple[Any, ...]) -> _Group:
        if len(op.groups) >= self.config.max_groups_per_rule:
            self._shrink(op)
        g = op.groups[key] = _Group(op.new_agg())
        return g

    def _accept(self, c: int, p: int, key: tuple[Any, ...], value: Any, uids: tuple[str, ...],
                fields: Mapping[str, Any] | None, t: int, out: list[CorrelationHit], late: bool) -> None:
        """One match of position p of correlation c, released in time order (or late)."""
        op = self._ops[c]
        if late:
            self._accept_late(op, p, key, value, uids, fields, t, out)
            return
        g = op.groups.get(key)
        if g is None:
            g = self._new_group(op, key)
        elif t <= g.quiet_until:
            self.stats.absorbed += 1  # part of the incident the last hit reported
            if t > g.last:
                g.last = t
            return
        self._seq += 1
        e: Entry = (t, self._seq, p, value, uids, fields)
        entries = g.entries
        eager = op.eager
        if eager:
            lo = t - op.span
            while entries and entries[0][0] < lo:
                op.remove(g.agg, entries.popleft())
        elif g.start is None:
            g.start = t
            self._seq += 1
            heapq.heappush(self._timers, (t + op.span, self._seq, c, key, t))
        entries.append(e)
        op.add(g.agg, e)
        if len(entries) > self._cap:
            op.remove(g.agg, entries.popleft())
            self.stats.capped_entries += 1
        if t > g.last:
            g.last = t
        if eager:
            result = op.check(g, t, e)
            if result is not None:
                self._fire(op, key, g, result, t, t, out, False)
                self._quiet(op, g, t)

    def _accept_late(self, op: _Operator, p: int, key: tuple[Any, ...], value: Any, uids: tuple[str, ...],
                     fields: Mapping[str, Any] | None, t: int, out: list[CorrelationHit]) -> None:
        """A match older than the watermark: counted if it still lies in its group's current window
        (eager: within a timespan of the group's latest match, or of the watermark for a group with
        no recent match; close mode: inside the open window), dropped otherwise — and always for
        temporal_ordered, whose chains cannot be rewound."""
        g = op.groups.get(key)
        corr = op.corr
        span = op.span
        if corr.type == "temporal_ordered":
            self.stats.late_dropped += 1
            return
        if corr.eager:
            if g is None and t >= self._watermark - span:
                g = self._new_group(op, key)
            if g is None or t < g.last - span:
                self.stats.late_dropped += 1
                return
        elif g is None or g.start is None or not g.start <= t <= g.start + span:
            self.stats.late_dropped += 1
            return
        if t <= g.quiet_until:
            self.stats.absorbed += 1
            return
        self.stats.late_counted += 1
        self._seq += 1
        e: Entry = (t, self._seq, p, value, uids, fields)
        entries = g.entries
        if t >= g.last:  # the group's newest match after all: slide its window as usual
            g.last = t
            while entries and entries[0][0] < t - span:
                op.remove(g.agg, entries.popleft())
        entries.insert(bisect.bisect_right(entries, t, key=lambda x: x[0]), e)
        op.add(g.agg, e)
        if len(entries) > self._cap:
            op.remove(g.agg, entries.popleft())
            self.stats.capped_entries += 1
        if corr.eager:
            result = op.check(g, g.last, e)
            if result is not None:
                self._fire(op, key, g, result, g.last, g.last, out, True)
                self._quiet(op, g, g.last)

    def _quiet(self, op: _Operator, g: _Group, t: int) -> None:
        """After an eager hit: empty the window and absorb the group's matches for one timespan, so
        one incident gives one hit and the next hit is built from later events only."""
        g.quiet_until = t + op.span
        g.entries.clear()
        g.agg = op.new_agg()

    def _close(self, c: int, key: tuple[Any, ...], start: int, end: int, out: list[CorrelationHit]) -> None:
        """A close-mode window [start, start + timespan] is complete: evaluate it, then reset."""
        op = self._ops[c]
        g = op.groups.get(key)
        if g is None or g.start != start:
            return  # the group was evicted or the timer is stale
        result = op.check(g, end, None) if g.entries else None
        if result is not None:
            value, _, uids = result
            self._fire(op, key, g, (value, start, uids), end, end, out, False)
        g.entries.clear()
        g.agg = op.new_agg()
        g.start = None

    def _fire(self, op: _Operator, key: tuple[Any, ...], g: _Group, result: tuple[float, int, tuple[str, ...]],
              end: int, time_ms: int, out: list[CorrelationHit], late: bool) -> None:
        value, start, uids = result
        corr = op.corr
        group = dict(zip(corr.group_by, key, strict=True))
        ident = json.dumps([corr.key, list(key), start, uids[:1]], default=str, separators=(",", ":"))
        hit = CorrelationHit(
            hit_id=hashlib.blake2b(ident.encode(), digest_size=16).hexdigest(),
            rule_id=corr.rule_id, name=corr.name, title=corr.title, level=corr.level, tags=corr.tags,
            type=corr.type, group=group, event_uids=uids, window_start_ms=start, window_end_ms=end,
            time_ms=time_ms, value=value, output=corr.output, source=corr.source,
            fields=dict(op.export(g) or {}) if corr.export_fields else {},
        )
        self.stats.hits += 1
        out.append(hit)
        consumers = self._consumers[op.index]
        if consumers:
            self._feed_chain(hit, consumers, out, late)

    def _feed_chain(self, hit: CorrelationHit, consumers: Sequence[tuple[int, int]],
                    out: list[CorrelationHit], late: bool) -> None:
        """A hit is an event for the correlations that reference its rule, at the hit's time."""
        event = hit.as_event()
        for c, p in consumers:
            for cc, pp, key, value, fields in self._project(event, ((c, p),)):
                self._accept(cc, pp, key, value, hit.event_uids, fields, hit.time_ms, out, late)

    # --- bounded memory ------------------------------------------------------------------

    def _expire(self, op: _Operator) -> None:
        """Forget the groups whose window is empty and that no longer absorb anything."""
        wm = self._watermark
        if op.eager:
            before = wm - op.span
            idle = [k for k, g in op.groups.items() if g.last < before and g.quiet_until < wm]
        else:
            idle = [k for k, g in op.groups.items() if g.start is None]
        groups = op.groups
        for k in idle:
            del groups[k]
        self.stats.expired_groups += len(idle)

    def _sweep(self) -> None:
        for op in self._ops:
            self._expire(op)

    def _shrink(self, op: _Operator) -> None:
        """Too many groups: expire idle ones, then evict the least recently active tenth."""
        self._expire(op)
        limit = self.config.max_groups_per_rule
        if len(op.groups) >= limit:
            excess = len(op.groups) - int(limit * 0.9)
            oldest = sorted(op.groups, key=lambda k: op.groups[k].last)[:excess]
            for k in oldest:
                del op.groups[k]
            self.stats.evicted_groups += len(oldest)

    def group_count(self) -> int:
        return sum(len(op.groups) for op in self._ops)

    # --- hand-over ---------------------------------------------------------------------------

    def snapshot(self) -> bytes:
        """The whole state (buffer, open windows, quiet periods, clocks) as msgpack bytes.

        Correlations are named by key and fingerprint, so the state can be restored into an engine
        loaded from the same rules on another machine; a correlation whose definition changed
        starts empty."""
        rules: dict[str, Any] = {}
        for op in self._ops:
            rules[op.corr.key] = {
                "fp": op.corr.fingerprint,
                "groups": [[list(k), g.last, g.quiet_until, g.start, [list(e) for e in g.entries]]
                           for k, g in op.groups.items()],
            }
        keys = [op.corr.key for op in self._ops]
        state = {
            "v": _SNAPSHOT_VERSION,
            "max_seen": self._max_seen,
            "watermark": self._watermark,
            "seq": self._seq,
            "next_sweep": self._next_sweep,
            "buffer": [[t, s, uid, [[keys[c], p, list(k), v, f] for c, p, k, v, f in projections]]
                       for t, s, uid, projections in self._buffer],
            "timers": [[end, s, keys[c], list(k), start] for end, s, c, k, start in self._timers],
            "rules": rules,
            "stats": asdict(self.stats),
        }
        return msgspec.msgpack.encode(state)

    def restore(self, data: bytes) -> list[CorrelationIssue]:
        """Replace this engine's state with a snapshot's. Returns what could not be carried over
        (correlations no longer loaded, or changed); those are also added to `issues`."""
        state = msgspec.msgpack.decode(data)
        if not isinstance(state, dict) or state.get("v") != _SNAPSHOT_VERSION:
            raise ValueError("not a correlation state snapshot of a supported version")
        self._reset_time()
        problems: list[CorrelationIssue] = []
        usable: dict[str, _Operator] = {}
        for key, saved in state["rules"].items():
            op = self._by_key.get(key)
            if op is None:
                problems.append(CorrelationIssue("<snapshot>", f"state of correlation {key!r} dropped: "
                                                 "no such correlation is loaded", severity="warning"))
            elif op.corr.fingerprint != saved["fp"]:
                problems.append(CorrelationIssue(op.corr.source, "state dropped: the correlation changed since the "
                                                 "snapshot", op.corr.title, op.corr.rule_id, "warning"))
            else:
                usable[key] = op
                for k, last, quiet, start, entries in saved["groups"]:
                    g = _Group(op.new_agg())
                    g.last, g.quiet_until, g.start = last, quiet, start
                    for t, s, p, v, uids, fields in entries:
                        e: Entry = (t, s, p, _thaw_key(v), tuple(uids), fields)
                        g.entries.append(e)
                        op.add(g.agg, e)
                    op.groups[_thaw_key(k)] = g
        self._max_seen = state["max_seen"]
        self._watermark = state["watermark"]
        self._seq = state["seq"]
        self._next_sweep = state["next_sweep"]
        for t, s, uid, projections in state["buffer"]:
            kept: list[Projection] = [(usable[ck].index, p, _thaw_key(k), _thaw_key(v), f)
                                      for ck, p, k, v, f in projections if ck in usable]
            if kept:
                self._buffer.append((t, s, uid, kept))
        heapq.heapify(self._buffer)
        self._timers = [(end, s, usable[ck].index, _thaw_key(k), start)
                        for end, s, ck, k, start in state["timers"] if ck in usable]
        heapq.heapify(self._timers)
        self.stats = CorrelationStats(**state["stats"])
        self.issues.extend(problems)
        return problems
