"""Evaluate layer: a set of compiled Sigma rules matched against flat events.

    rules = RuleSet.from_paths(["rules/windows"])
    for m in rules.match(flatten(record)):
        print(m.level, m.title)

Per event: the router turns the event's key fields (Channel, EventID, EventType) into a route; the
route's *bucket* — the rules whose log source covers those events, compiled with that log source's
field aliases and pruned by the EventIDs each rule requires — is built on first sight and cached.
Then the event is lower-cased once, the bucket's literal pre-filter picks candidate rules, and each
candidate's generated predicate runs. `routing=False` evaluates every rule (with its log-source
conditions folded in) on every event: the naive baseline the benchmark compares against.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigma.correlations import SigmaCorrelationRule

from . import ir
from .compile import CompiledPredicate, compile_predicate, normalize, optimize
from .logsource import MAX_ROUTE_KEYS, LogsourceRow, Route, Router, rule_takes_row, windows_router
from .modifiers import ValueContext, required_values
from .pipeline import FieldMapping, Placeholders, identity
from .prefilter import Prefilter, haystack, necessary_literals
from .rules import DetectionRule, LoadedFilter, Match, RuleError, load_sources, read_paths

Event = Mapping[str, Any]


@dataclass(eq=False)
class CompiledRule:
    """One rule compiled for one set of field aliases."""

    rule: DetectionRule
    predicate: CompiledPredicate
    literals: frozenset[str] | None
    required: Mapping[str, frozenset[str] | None]

    @property
    def source(self) -> str:
        return self.predicate.source


@dataclass(eq=False)
class Bucket:
    """The rules that apply to one route, ready to run."""

    compiled: tuple[CompiledRule, ...]
    functions: tuple[Any, ...]
    matches: tuple[Match, ...]
    prefilter: Prefilter | None


@dataclass
class RuleSetStats:
    rules: int
    errors: int
    unrouted: int
    filters: int
    correlations: int
    buckets: int
    compiled: int
    bucket_sizes: dict[str, tuple[int, int]] = field(default_factory=dict)  # route -> (rules, always-run)


class RuleSet:
    """Compiled Sigma rules with routing and a literal pre-filter. Build with `from_paths`/`from_yaml`."""

    def __init__(
        self,
        rules: Sequence[DetectionRule],
        *,
        filters: Sequence[LoadedFilter] = (),
        correlations: Sequence[SigmaCorrelationRule] = (),
        errors: Sequence[RuleError] = (),
        router: Router | None = None,
        routing: bool = True,
        prefilter: bool = True,
    ) -> None:
        self.rules = list(rules)
        self.filters = list(filters)
        self.correlations = list(correlations)
        self.errors = list(errors)
        self.router = router or windows_router()
        self.routing = routing
        self.use_prefilter = prefilter and routing
        self._compiled: dict[tuple[int, tuple[tuple[str, str], ...]], CompiledRule] = {}
        self._buckets_by_key: dict[Hashable, Bucket] = {}
        self._buckets: dict[Hashable, Bucket] = {}
        # Rules per table row, so building a bucket looks only at rules that can apply.
        self._rules_by_row: list[list[DetectionRule]] = [
            [r for r in self.rules if rule_takes_row(r.logsource, row)] for row in self.router.rows
        ]
        routed = {r.index for rules_ in self._rules_by_row for r in rules_}
        self.unrouted = [r for r in self.rules if r.index not in routed]
        self._naive: list[tuple[DetectionRule, CompiledPredicate]] | None = None

    # -- construction ------------------------------------------------------------------------------

    @classmethod
    def from_paths(
        cls,
        paths: Iterable[str | Path],
        *,
        field_mapping: FieldMapping = identity,
        placeholders: Placeholders | None = None,
        router: Router | None = None,
        routing: bool = True,
        prefilter: bool = True,
    ) -> RuleSet:
        """Load every `.yml`/`.yaml` file under the given files and folders."""
        return cls._load(
            read_paths(paths), field_mapping, placeholders, router=router, routing=routing, prefilter=prefilter
        )

    @classmethod
    def from_yaml(
        cls,
        texts: str | Iterable[str],
        *,
        field_mapping: FieldMapping = identity,
        placeholders: Placeholders | None = None,
        router: Router | None = None,
        routing: bool = True,
        prefilter: bool = True,
    ) -> RuleSet:
        """Load YAML texts (each may hold several documents); errors name them `yaml[i]`."""
        items = [texts] if isinstance(texts, str) else list(texts)
        sources: list[tuple[str, str | Exception]] = [(f"yaml[{i}]", t) for i, t in enumerate(items)]
        return cls._load(sources, field_mapping, placeholders, router=router, routing=routing, prefilter=prefilter)

    @classmethod
    def _load(
        cls,
        sources: list[tuple[str, str | Exception]],
        field_mapping: FieldMapping,
        placeholders: Placeholders | None,
        **options: Any,
    ) -> RuleSet:
        loaded = load_sources(sources, ValueContext(field_mapping, placeholders))
        return cls(
            loaded.rules,
            filters=loaded.filters,
            correlations=loaded.correlations,
            errors=loaded.errors,
            **options,
        )

    def configured(self, *, routing: bool = True, prefilter: bool = True) -> RuleSet:
        """The same loaded rules with routing and/or the pre-filter switched (for benchmarks)."""
        return RuleSet(
            self.rules,
            filters=self.filters,
            correlations=self.correlations,
            errors=self.errors,
            router=Router(self.router.rows, self.router.key_fields),
            routing=routing,
            prefilter=prefilter,
        )

    # -- compiling ---------------------------------------------------------------------------------

    def _body(self, rule: DetectionRule) -> ir.Node:
        if not rule.filters:
            return rule.tree
        return ir.And((rule.tree, *(f.tree for f in rule.filters)))

    def compiled(self, rule: DetectionRule, aliases: Mapping[str, str]) -> CompiledRule:
        """The rule compiled for events whose fields carry these aliases (cached)."""
        key = (rule.index, tuple(sorted(aliases.items())))
        c = self._compiled.get(key)
        if c is None:
            tree = self._body(rule)
            if aliases:
                tree = ir.rename(tree, aliases)
            tree = optimize(tree)
            required = {f: required_values(tree, f) for f in self.router.key_fields}
            predicate = compile_predicate(tree, rule.title)
            c = self._compiled[key] = CompiledRule(rule, predicate, necessary_literals(tree), required)
        return c

    def _bucket_for(self, route: Route) -> Bucket:
        # Routes with the same rows and the same key values that rules prune on share one bucket.
        row_ids = route.row_ids
        signature = (row_ids, tuple(sorted(route.values.items(), key=lambda kv: kv[0])))
        bucket = self._buckets.get(signature)
        if bucket is not None:
            return bucket
        chosen: dict[int, CompiledRule] = {}
        for row_id, row in zip(row_ids, route.rows, strict=True):
            for rule in self._rules_by_row[row_id]:
                if rule.index in chosen:
                    continue  # first row wins (table order: service rows before category rows)
                c = self.compiled(rule, row.aliases)
                if self._pruned(c, route):
                    continue
                chosen[rule.index] = c
        compiled = tuple(chosen[i] for i in sorted(chosen))
        pre = Prefilter([c.literals for c in compiled]) if self.use_prefilter and compiled else None
        if pre is not None and not pre.active:
            pre = None
        bucket = Bucket(
            compiled,
            tuple(c.predicate.function for c in compiled),
            tuple(c.rule.match for c in compiled),
            pre,
        )
        self._buckets[signature] = bucket
        return bucket

    @staticmethod
    def _pruned(c: CompiledRule, route: Route) -> bool:
        """A rule requiring e.g. `EventID: 4625` cannot match a route whose EventID is 4624."""
        return any(allowed is not None and route.values.get(f) not in allowed for f, allowed in c.required.items())

    def _naive_predicates(self) -> list[tuple[DetectionRule, CompiledPredicate]]:
        """Every rule × row it can apply to, with the row's conditions ANDed in: no routing at all."""
        if self._naive is None:
            naive: list[tuple[DetectionRule, CompiledPredicate]] = []
            for rule in self.rules:
                rows: list[LogsourceRow] = list(self.router.rows_for(rule.logsource))
                for row in rows:
                    body = self._body(rule)
                    tree = optimize(ir.And((row.condition_tree(), ir.rename(body, row.aliases))))
                    naive.append((rule, compile_predicate(tree, rule.title)))
            self._naive = naive
        return self._naive

    # -- matching ----------------------------------------------------------------------------------

    def bucket(self, event: Event) -> Bucket:
        """The rules that apply to an event (built on first sight of its route)."""
        key = self.router.key(event)
        bucket = self._buckets_by_key.get(key)
        if bucket is None:
            if len(self._buckets_by_key) >= MAX_ROUTE_KEYS:
                self._buckets_by_key.clear()
            if len(self._buckets) >= MAX_ROUTE_KEYS:
                self._buckets.clear()
            bucket = self._buckets_by_key[key] = self._bucket_for(self.router.route(key))
        return bucket

    def match(self, event: Event) -> list[Match]:
        """The rules matching one flat event, in rule-load order."""
        if not self.routing:
            return self._match_naive(event)
        key = self.router.key(event)
        bucket = self._buckets_by_key.get(key)
        if bucket is None:
            bucket = self.bucket(event)
        functions = bucket.functions
        if not functions:
            return []
        low = normalize(event)
        matches = bucket.matches
        if bucket.prefilter is not None:
            positions: Iterable[int] = bucket.prefilter.candidates(haystack(low))
        else:
            positions = range(len(functions))
        return [matches[i] for i in positions if functions[i](event, low)]

    def match_many(self, events: Iterable[Event]) -> list[list[Match]]:
        """`match` over a batch; one result list per event, in order."""
        match = self.match
        return [match(e) for e in events]

    def _match_naive(self, event: Event) -> list[Match]:
        low = normalize(event)
        out: list[Match] = []
        last: DetectionRule | None = None
        for rule, predicate in self._naive_predicates():
            if rule is last:
                continue  # this rule already matched through another of its rows
            if predicate.function(event, low):
                out.append(rule.match)
                last = rule
        return out

    # -- reporting ---------------------------------------------------------------------------------

    def explain(self, rule_id_or_title: str) -> list[str]:
        """The generated source of a rule for each way it has been compiled so far (for debugging)."""
        return [
            c.predicate.source for c in self._compiled.values() if rule_id_or_title in (c.rule.rule_id, c.rule.title)
        ]

    def stats(self) -> RuleSetStats:
        sizes = {}
        for key, bucket in self._buckets_by_key.items():
            always = len(bucket.prefilter.always) if bucket.prefilter else len(bucket.compiled)
            sizes[repr(key)] = (len(bucket.compiled), always)
        return RuleSetStats(
            rules=len(self.rules),
            errors=len(self.errors),
            unrouted=len(self.unrouted),
            filters=len(self.filters),
            correlations=len(self.correlations),
            buckets=len(self._buckets),
            compiled=len(self._compiled),
            bucket_sizes=sizes,
        )
