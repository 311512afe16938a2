"""Load Sigma correlation meta-rules for the streaming correlation engine (`correlation.py`).

pySigma parses every document; this module turns its `SigmaCorrelationRule` objects into plain,
compiled descriptions the engine can run without touching pySigma again:

- references (`rules:`, alias keys) are resolved by id or `name` against the base rules and the
  other correlations of the same load, so correlations can chain; a reference that resolves to
  nothing, a reference cycle, or a construct the engine cannot evaluate becomes a
  `CorrelationIssue` naming the file, the rule and the reason. Such a correlation is not loaded,
  and neither is anything that depends on it — but it is always reported, never dropped silently;
- `aliases` become, per referenced rule, the event field to read for each `group-by` entry;
- conditions become a `Condition` (ANDed comparisons). The Sigma spec allows ranges (`gt: 100`
  plus `lte: 200`) but pySigma 2.0.1 refuses more than one operator, so YAML input is pre-read and
  the full condition kept aside before pySigma sees a one-operator copy;
- `generate: false` (the default) marks the referenced rules as not alerting on their own, the
  way pySigma's `disable_output` does.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import (
    CorrelationConditionAND,
    CorrelationConditionItem,
    CorrelationConditionNOT,
    CorrelationConditionOR,
    SigmaCorrelationCondition,
    SigmaCorrelationRule,
    SigmaExtendedCorrelationCondition,
    SigmaRuleReference,
)
from sigma.exceptions import SigmaRuleLocation
from sigma.rule import SigmaRule

TYPES = frozenset(
    {"event_count", "value_count", "temporal", "temporal_ordered", "value_sum", "value_avg",
     "value_percentile", "value_median"}
)
VALUE_TYPES = frozenset({"value_count", "value_sum", "value_avg", "value_percentile", "value_median"})
NUMERIC_TYPES = frozenset({"value_sum", "value_avg", "value_percentile", "value_median"})
OPERATORS = ("gt", "gte", "lt", "lte", "eq", "neq")
LOWER_BOUNDS = frozenset({"gt", "gte"})

# Where the full (possibly multi-operator) condition is kept in the raw correlation mapping while
# pySigma parses a one-operator copy. pySigma ignores unknown keys inside `correlation:`.
_FULL_CONDITION = "x-linewatch-condition"


@dataclass(frozen=True)
class CorrelationIssue:
    """A correlation rule (or file) that was not loaded or is approximated, and why."""

    source: str
    reason: str
    title: str | None = None
    rule_id: str | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        what = f" rule {self.title!r}" if self.title else ""
        ident = f" ({self.rule_id})" if self.rule_id else ""
        return f"{self.source}:{what}{ident}: {self.severity}: {self.reason}"


@dataclass(frozen=True)
class Condition:
    """ANDed comparisons of one aggregate against thresholds (`gt: 100` + `lte: 200` is a range)."""

    ops: tuple[tuple[str, float], ...]

    @property
    def lower_bounds_only(self) -> bool:
        """True when adding events can only make the condition true (so it may fire eagerly)."""
        return all(op in LOWER_BOUNDS for op, _ in self.ops)

    def compiled(self) -> Callable[[float], bool]:
        """The condition as one closure (the engine calls it on every matching event)."""
        tests = [_COMPARE[op](limit) for op, limit in self.ops]
        if len(tests) == 1:
            return tests[0]
        return lambda value: all(t(value) for t in tests)

    def __call__(self, value: float) -> bool:
        for op, limit in self.ops:
            if op == "gte":
                if not value >= limit:
                    return False
            elif op == "gt":
                if not value > limit:
                    return False
            elif op == "lte":
                if not value <= limit:
                    return False
            elif op == "lt":
                if not value < limit:
                    return False
            elif op == "eq":
                if value != limit:
                    return False
            elif value == limit:  # neq
                return False
        return True

    def __str__(self) -> str:
        return " and ".join(f"{op} {limit:g}" for op, limit in self.ops)


_COMPARE: dict[str, Callable[[float], Callable[[float], bool]]] = {
    "gt": lambda limit: lambda v: v > limit,
    "gte": lambda limit: lambda v: v >= limit,
    "lt": lambda limit: lambda v: v < limit,
    "lte": lambda limit: lambda v: v <= limit,
    "eq": lambda limit: lambda v: v == limit,
    "neq": lambda limit: lambda v: v != limit,
}


@dataclass(frozen=True)
class Position:
    """One entry of a correlation's `rules:` list, compiled.

    `group_fields` are the event fields to read, aligned with the correlation's `group-by` (aliases
    already applied for this rule); `value_fields` the same for the condition's `field`.
    """

    reference: str
    target: str  # the resolved rule's key (see `rule_key`)
    is_correlation: bool
    group_fields: tuple[str, ...]
    value_fields: tuple[str, ...]
    identifiers: tuple[str, ...] = ()  # every id/name the matcher may report for the rule


@dataclass(eq=False)
class CompiledCorrelation:
    """A correlation rule ready for the engine: plain data, no pySigma objects on the hot path."""

    key: str
    rule_id: str | None
    name: str | None
    title: str
    level: str | None
    tags: tuple[str, ...]
    type: str
    timespan_ms: int
    group_by: tuple[str, ...]
    positions: tuple[Position, ...]
    condition: Condition | None  # None when `expression` decides (temporal with an extended condition)
    expression: Callable[[frozenset[str]], bool] | None = None
    expression_text: str | None = None
    percentile: float | None = None  # value_percentile / value_median; None on value_percentile = share mode
    generate: bool = False
    output: bool = True
    eager: bool = True  # fire as soon as the condition holds; False = evaluate at window close
    source: str = ""
    fingerprint: str = ""
    export_fields: tuple[str, ...] = ()  # fields the correlations consuming our hits read
    sigma: SigmaCorrelationRule | None = field(default=None, repr=False)

    @property
    def share_mode(self) -> bool:
        """value_percentile without `percentile:`: the spec example's "value rarer than N % of events"."""
        return self.type == "value_percentile" and self.percentile is None


@dataclass
class CorrelationSet:
    """The result of a load: compiled correlations in dependency order, and what went wrong."""

    correlations: list[CompiledCorrelation] = field(default_factory=list)
    issues: list[CorrelationIssue] = field(default_factory=list)
    # base rule keys (ids and names) whose stand-alone alerts a `generate: false` correlation disables
    silenced_rules: frozenset[str] = frozenset()

    @property
    def errors(self) -> list[CorrelationIssue]:
        return [i for i in self.issues if i.severity == "error"]


def canonical_reference(ref: str) -> str:
    """Rule ids compare as UUIDs (case-insensitive); names compare exactly."""
    try:
        return str(uuid.UUID(ref))
    except (ValueError, AttributeError, TypeError):
        return ref


def rule_key(rule: SigmaRule | SigmaCorrelationRule) -> str | None:
    if rule.id is not None:
        return canonical_reference(str(rule.id))
    return rule.name


def _source_of(rule: SigmaRule | SigmaCorrelationRule, default: str = "<input>") -> str:
    loc = rule.source
    if isinstance(loc, SigmaRuleLocation):
        return str(loc.path)
    return str(loc) if loc else default


# ---------------------------------------------------------------------------------------------
# Reading YAML


def _prepare_document(doc: Any) -> Any:
    """Keep a multi-operator condition aside and hand pySigma a copy it accepts."""
    if not isinstance(doc, dict):
        return doc
    corr = doc.get("correlation")
    if not isinstance(corr, dict):
        return doc
    cond = corr.get("condition")
    if isinstance(cond, dict) and len([k for k in cond if k in OPERATORS]) > 1:
        first = next(k for k in OPERATORS if k in cond)
        reduced = {k: v for k, v in cond.items() if k not in OPERATORS or k == first}
        corr = {**corr, "condition": reduced, _FULL_CONDITION: cond}
        return {**doc, "correlation": corr}
    return doc


def parse_texts(texts: Iterable[tuple[str, str]]) -> tuple[list[SigmaRule | SigmaCorrelationRule],
                                                        list[CorrelationIssue]]:
    """Parse (source name, YAML text) pairs into pySigma rules; failures become issues."""
    rules: list[SigmaRule | SigmaCorrelationRule] = []
    issues: list[CorrelationIssue] = []
    for name, text in texts:
        try:
            docs = [_prepare_document(d) for d in yaml.safe_load_all(text)]
        except yaml.YAMLError as exc:
            issues.append(CorrelationIssue(name, f"YAML error: {exc}"))
            continue
        location = SigmaRuleLocation(Path(name))
        try:
            collection = SigmaCollection.from_dicts(
                docs, collect_errors=True, source=location, collect_filters=True, resolve_references=False
            )
            parsed = list(collection.rules)
            file_errors = [e for e in collection.errors if not any(e in r.errors for r in parsed)]
            issues.extend(CorrelationIssue(name, str(e)) for e in file_errors)
        except Exception:  # pySigma raises some errors even with collect_errors: parse one document at a time
            parsed = []
            for number, doc in enumerate(docs, 1):
                try:
                    one = SigmaCollection.from_dicts(
                        [doc], collect_errors=True, source=location, collect_filters=True, resolve_references=False
                    )
                    parsed.extend(one.rules)
                except Exception as exc:
                    title = doc.get("title") if isinstance(doc, dict) else None
                    reason = f"document {number}: {str(exc) or type(exc).__name__}"
                    issues.append(CorrelationIssue(name, reason, title))
        for rule in parsed:
            if rule.errors:
                ident = str(rule.id) if rule.id else None
                issues.extend(CorrelationIssue(name, str(e), rule.title, ident) for e in rule.errors)
                continue
            rules.append(rule)
    return rules, issues


def read_paths(paths: Iterable[str | Path]) -> list[tuple[str, str]]:
    """(name, text) for every `.yml`/`.yaml` file under the given files or folders, sorted."""
    out: list[tuple[str, str]] = []
    for p in paths:
        path = Path(p)
        files = (
            sorted(f for f in path.rglob("*") if f.suffix in (".yml", ".yaml") and f.is_file())
            if path.is_dir()
            else [path]
        )
        out.extend((str(f), f.read_text(encoding="utf-8")) for f in files)
    return out


# ---------------------------------------------------------------------------------------------
# Compiling


def _raw_correlation(rule: SigmaCorrelationRule) -> Mapping[str, Any]:
    raw = rule.custom_attributes.get("correlation")
    return raw if isinstance(raw, Mapping) else {}


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"condition threshold {value!r} is not a number")
    if not math.isfinite(value):
        raise ValueError(f"condition threshold {value!r} is not finite")
    return value


def _condition(
    rule: SigmaCorrelationRule, n_rules: int
) -> tuple[Condition | None, SigmaExtendedCorrelationCondition | None]:
    raw = _raw_correlation(rule)
    full = raw.get(_FULL_CONDITION, raw.get("condition"))
    if isinstance(full, Mapping):
        unknown = [k for k in full if k not in OPERATORS and k not in ("field", "percentile")]
        if unknown:
            raise ValueError(f"unknown condition keys: {', '.join(map(str, unknown))}")
        ops = tuple((op, _number(full[op])) for op in OPERATORS if op in full)
        if not ops:
            raise ValueError("condition has no comparison (gt, gte, lt, lte, eq, neq)")
        return Condition(ops), None
    cond = rule.condition
    if isinstance(cond, SigmaExtendedCorrelationCondition):
        return None, cond
    if isinstance(cond, SigmaCorrelationCondition):
        return Condition(((cond.op.name.lower(), _number(cond.count)),)), None
    return Condition((("gte", float(n_rules)),)), None


def _compile_expression(
    node: CorrelationConditionItem | SigmaRuleReference, refs: Mapping[str, str]
) -> tuple[Callable[[frozenset[str]], bool], bool]:
    """An extended temporal condition (`a and not b`) as a predicate over the set of rule keys seen.

    Returns the predicate and whether it contains `not` (then it is not monotone and is evaluated
    at window close).
    """
    if isinstance(node, SigmaRuleReference):
        key = refs[node.reference]
        return (lambda seen: key in seen), False
    parts = [_compile_expression(a, refs) for a in node.args]
    fns = [p[0] for p in parts]
    negated = any(p[1] for p in parts)
    if isinstance(node, CorrelationConditionNOT):
        inner = fns[0]
        return (lambda seen: not inner(seen)), True
    if isinstance(node, CorrelationConditionAND):
        return (lambda seen: all(f(seen) for f in fns)), negated
    if isinstance(node, CorrelationConditionOR):
        return (lambda seen: any(f(seen) for f in fns)), negated
    raise ValueError(f"unsupported extended condition element {type(node).__name__}")


def _fingerprint(corr: CompiledCorrelation) -> str:
    """Identifies a correlation's semantics, so saved state is only restored into the same rule."""
    body = json.dumps(
        [corr.type, corr.timespan_ms, corr.group_by,
         [(p.target, p.group_fields, p.value_fields) for p in corr.positions],
         corr.condition.ops if corr.condition else corr.expression_text, corr.percentile],
        sort_keys=True, default=str,
    )
    return hashlib.blake2b(body.encode(), digest_size=12).hexdigest()


def compile_rules(
    rules: Sequence[SigmaRule | SigmaCorrelationRule],
    *,
    known_rules: Iterable[str] = (),
    max_events_per_group: int | None = None,
) -> CorrelationSet:
    """Resolve and compile every correlation among `rules`.

    `rules` holds the base rules (SigmaRule) and correlations of one rule set. `known_rules` are
    further ids/names the single-event matcher can produce though their YAML is not part of this
    load (e.g. a separately loaded rule pack); references to them resolve as base rules.
    """
    result = CorrelationSet()
    by_ref: dict[str, SigmaRule | SigmaCorrelationRule] = {}
    for rule in rules:
        for ref in (canonical_reference(str(rule.id)) if rule.id else None, rule.name):
            if ref is None:
                continue
            other = by_ref.get(ref)
            if other is not None and other is not rule:
                result.issues.append(CorrelationIssue(
                    _source_of(rule), f"duplicate rule reference {ref!r} (also {other.title!r} in "
                    f"{_source_of(other)}); the first definition is used", rule.title,
                    str(rule.id) if rule.id else None, "warning"))
                continue
            by_ref[ref] = rule
    known = {canonical_reference(k) for k in known_rules}

    correlations = [r for r in rules if isinstance(r, SigmaCorrelationRule)]
    compiled: dict[int, CompiledCorrelation] = {}  # id(sigma rule) -> compiled
    depends: dict[int, list[SigmaCorrelationRule]] = {}
    failed: dict[int, str] = {}

    for number, corr in enumerate(correlations):
        source = _source_of(corr)
        ident = str(corr.id) if corr.id else None
        try:
            item, deps, warnings = _compile_one(corr, number, by_ref, known, source)
        except ValueError as exc:
            result.issues.append(CorrelationIssue(source, str(exc), corr.title, ident))
            failed[id(corr)] = str(exc)
            continue
        result.issues.extend(CorrelationIssue(source, w, corr.title, ident, "warning") for w in warnings)
        compiled[id(corr)] = item
        depends[id(corr)] = deps

    # Dependency order; cycles and dependencies on failed correlations are reported, not loaded.
    state: dict[int, int] = {}  # 1 = visiting, 2 = done
    order: list[SigmaCorrelationRule] = []

    def visit(corr: SigmaCorrelationRule, trail: list[SigmaCorrelationRule]) -> bool:
        key = id(corr)
        if key in failed:
            return False
        if state.get(key) == 2:
            return True
        if state.get(key) == 1:
            cycle = " -> ".join(c.title for c in [*trail[trail.index(corr):], corr])
            for member in trail[trail.index(corr):]:
                failed.setdefault(id(member), f"reference cycle: {cycle}")
            return False
        state[key] = 1
        for dep in depends.get(key, []):
            if not visit(dep, [*trail, corr]) and key not in failed:
                failed[key] = f"depends on correlation {dep.title!r}, which was not loaded"
        state[key] = 2
        if key in failed:
            return False
        order.append(corr)
        return True

    for corr in correlations:
        if id(corr) in compiled:
            visit(corr, [])
    for corr in correlations:
        if id(corr) in compiled and id(corr) in failed:
            result.issues.append(CorrelationIssue(
                _source_of(corr), failed[id(corr)], corr.title, str(corr.id) if corr.id else None))

    # generate: false -> the referenced rules do not alert on their own (pySigma's disable_output).
    silenced: set[str] = set()
    silenced_corr: set[str] = set()
    for corr in order:
        item = compiled[id(corr)]
        if item.generate:
            continue
        for pos in item.positions:
            if pos.is_correlation:
                silenced_corr.add(pos.target)
            else:
                target = by_ref.get(pos.target)
                silenced.add(pos.target)
                if target is not None:
                    if target.id:
                        silenced.add(canonical_reference(str(target.id)))
                    if target.name:
                        silenced.add(target.name)
    result.silenced_rules = frozenset(silenced)

    final = [compiled[id(c)] for c in order]
    consumers: dict[str, set[str]] = {}
    for item in final:
        item.output = item.key not in silenced_corr
        for pos in item.positions:
            if pos.is_correlation:
                consumers.setdefault(pos.target, set()).update((*pos.group_fields, *pos.value_fields))
    for item in final:
        item.export_fields = tuple(sorted(consumers.get(item.key, ())))
        if max_events_per_group and item.condition is not None and item.type in ("event_count", "value_count"):
            limit = max(v for _, v in item.condition.ops)
            if limit >= max_events_per_group:
                result.issues.append(CorrelationIssue(
                    item.source, f"threshold {limit:g} is not below the per-group cap of {max_events_per_group} "
                    "events; counts saturate at the cap, so this condition is approximated",
                    item.title, item.rule_id, "warning"))
    result.correlations = final
    return result


def _compile_one(
    corr: SigmaCorrelationRule,
    number: int,
    by_ref: Mapping[str, SigmaRule | SigmaCorrelationRule],
    known: set[str],
    source: str,
) -> tuple[CompiledCorrelation, list[SigmaCorrelationRule], list[str]]:
    """One correlation compiled, the correlations it depends on, and warnings (not fatal)."""
    ctype = str(corr.type.name).lower() if corr.type is not None else ""
    if ctype not in TYPES:
        raise ValueError(f"correlation type {ctype or None!r} is not supported")
    cond, extended = _condition(corr, len(corr.rules or []))
    references: list[str] = [r.reference for r in corr.rules] if corr.rules else []
    if not references and extended is not None:
        references = extended.get_referenced_rules()
    if not references:
        raise ValueError("correlation refers to no rules")

    targets: list[tuple[str, bool]] = []
    identifiers: list[tuple[str, ...]] = []
    deps: list[SigmaCorrelationRule] = []
    for ref in references:
        canon = canonical_reference(str(ref))
        target = by_ref.get(canon)
        if target is corr:
            raise ValueError(f"correlation refers to itself ({ref!r})")
        if target is not None:
            key = rule_key(target)
            assert key is not None  # found by id or name, so it has one
            is_corr = isinstance(target, SigmaCorrelationRule)
            if is_corr:
                deps.append(target)  # type: ignore[arg-type]
            names = (canonical_reference(str(target.id)) if target.id else None, target.name, str(ref))
        elif canon in known:
            key, is_corr, names = canon, False, (canon, str(ref))
        else:
            raise ValueError(f"referenced rule {ref!r} not found (neither an id nor a name of a loaded rule)")
        targets.append((key, is_corr))
        identifiers.append(tuple(dict.fromkeys(n for n in names if n)))

    def resolve_alias_ref(ref: str) -> str | None:
        canon = canonical_reference(str(ref))
        target = by_ref.get(canon)
        if target is not None:
            return rule_key(target)
        return canon if canon in known else None

    group_by = tuple(corr.group_by or ())
    alias_fields: dict[str, dict[str, str]] = {}  # alias -> target key -> field
    problems: list[str] = []
    for alias in corr.aliases:
        per_target: dict[str, str] = {}
        for ref, fieldname in alias.mapping.items():
            target_key = resolve_alias_ref(ref.reference)
            if target_key is None or target_key not in {t for t, _ in targets}:
                raise ValueError(f"alias {alias.alias!r} maps rule {ref.reference!r}, which is not among the "
                                 "correlation's rules")
            per_target[target_key] = str(fieldname)
        alias_fields[alias.alias] = per_target

    value_fieldref: list[str] = []
    percentile: float | None = None
    if ctype in VALUE_TYPES:
        fieldref = corr.condition.fieldref if isinstance(corr.condition, SigmaCorrelationCondition) else None
        if not fieldref:
            raise ValueError(f"{ctype} needs a condition 'field'")
        value_fieldref = [fieldref] if isinstance(fieldref, str) else [str(f) for f in fieldref]
        if len(value_fieldref) > 1 and ctype != "value_count":
            raise ValueError(f"{ctype} takes a single condition field, got {value_fieldref}")
        if ctype == "value_median":
            percentile = 50.0
        elif ctype == "value_percentile" and isinstance(corr.condition, SigmaCorrelationCondition):
            p = corr.condition.percentile
            if p is not None:
                if not 0 <= p <= 100:
                    raise ValueError(f"percentile {p} is outside 0..100")
                percentile = float(p)

    positions: list[Position] = []
    for ref, (target_key, is_corr), idents in zip(references, targets, identifiers, strict=True):
        fields = []
        for name in group_by:
            mapping = alias_fields.get(name)
            if mapping is None:
                fields.append(name)
            elif target_key in mapping:
                fields.append(mapping[target_key])
            else:
                fields.append(name)
                problems.append(f"alias {name!r} has no field for rule {ref!r}; its events are read at {name!r}")
        values = []
        for name in value_fieldref:
            mapping = alias_fields.get(name)
            values.append(mapping.get(target_key, name) if mapping else name)
        positions.append(Position(str(ref), target_key, is_corr, tuple(fields), tuple(values), idents))

    expression = None
    expression_text = None
    eager = True
    if extended is not None:
        if ctype != "temporal":
            raise ValueError("extended (boolean) conditions are only supported on 'temporal' correlations")
        refs = {p.reference: p.target for p in positions}
        missing = [r for r in extended.get_referenced_rules() if r not in refs]
        if missing:
            raise ValueError(f"extended condition names rules not in 'rules': {missing}")
        expression, negated = _compile_expression(extended.parsed, refs)
        expression_text = extended.expression
        eager = not negated
    else:
        assert cond is not None
        # A share is a property of the complete window (any first event is 100 % of it), so share
        # mode is always decided at window close.
        eager = cond.lower_bounds_only and not (ctype == "value_percentile" and percentile is None)

    key = rule_key(corr) or f"{source}#{number}:{corr.title}"
    item = CompiledCorrelation(
        key=key,
        rule_id=canonical_reference(str(corr.id)) if corr.id else None,
        name=corr.name,
        title=corr.title,
        level=str(corr.level) if corr.level else None,
        tags=tuple(str(t) for t in corr.tags),
        type=ctype,
        timespan_ms=int(corr.timespan.seconds) * 1000,
        group_by=group_by,
        positions=tuple(positions),
        condition=cond,
        expression=expression,
        expression_text=expression_text,
        percentile=percentile,
        generate=bool(corr.generate),
        eager=eager,
        source=source,
        sigma=corr,
    )
    item.fingerprint = _fingerprint(item)
    return item, deps, problems


def load(
    rules: SigmaCollection | Iterable[SigmaRule | SigmaCorrelationRule],
    *,
    known_rules: Iterable[str] = (),
    max_events_per_group: int | None = None,
) -> CorrelationSet:
    """Compile the correlations of a SigmaCollection (or a list of parsed rules)."""
    items = list(rules.rules) if isinstance(rules, SigmaCollection) else list(rules)
    return compile_rules(items, known_rules=known_rules, max_events_per_group=max_events_per_group)


def load_texts(
    texts: Iterable[tuple[str, str]],
    *,
    known_rules: Iterable[str] = (),
    max_events_per_group: int | None = None,
) -> CorrelationSet:
    """Parse and compile (source name, YAML text) pairs; parse errors become issues too."""
    parsed, issues = parse_texts(texts)
    result = load(parsed, known_rules=known_rules, max_events_per_group=max_events_per_group)
    result.issues[:0] = issues
    return result
