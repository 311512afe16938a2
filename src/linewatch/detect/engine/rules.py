"""Parse layer: Sigma YAML → pySigma objects → our loaded rules, filters and correlations.

Every document is parsed by pySigma (the reference parser; it applies the modifiers and builds the
condition tree). Anything that fails — bad YAML, a pySigma error, a value or placeholder the engine
cannot evaluate — becomes a `RuleError` naming the file, the rule and the reason. Nothing is dropped
silently: a rule is either loaded or listed in `errors`.

Correlation meta-rules are parsed and kept (`correlations`), with their references resolved against
the loaded rules, for the correlation module to run; this layer does not evaluate them. Filters are
kept apart from the rules they tune, so a site's suppressions can be added to a shared rule set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.filters import SigmaFilter
from sigma.rule import SigmaRule

from . import ir
from .compile import detection_to_ir, optimize
from .logsource import Triple
from .modifiers import Unsupported, ValueContext


@dataclass(frozen=True, slots=True)
class Match:
    """One rule matching one event: what an alert needs to say which rule fired."""

    rule_id: str | None
    title: str
    level: str | None
    tags: tuple[str, ...]
    name: str | None = None
    source: str = ""


@dataclass(frozen=True)
class RuleError:
    """A rule (or file) that was not loaded, and why."""

    source: str
    reason: str
    title: str | None = None
    rule_id: str | None = None

    def __str__(self) -> str:
        what = f" rule {self.title!r}" if self.title else ""
        ident = f" ({self.rule_id})" if self.rule_id else ""
        return f"{self.source}:{what}{ident}: {self.reason}"


@dataclass(eq=False)
class DetectionRule:
    """A loaded Sigma detection rule: pySigma's object plus our tree (field-mapped, optimised)."""

    index: int
    sigma: SigmaRule
    tree: ir.Node
    logsource: Triple
    match: Match
    source: str
    filters: list[LoadedFilter] = field(default_factory=list)

    @property
    def rule_id(self) -> str | None:
        return self.match.rule_id

    @property
    def title(self) -> str:
        return self.match.title


@dataclass(eq=False)
class LoadedFilter:
    """A Sigma filter (meta-rule) compiled to a tree; applied as `rule AND filter-condition`.

    That is pySigma's semantics (`SigmaFilter.apply_on_rule`): a suppression is written
    `condition: not selection`. The spec's own example writes `condition: selection` for an
    exclusion; we follow the reference implementation and say so in docs/detection.md.
    """

    sigma: SigmaFilter
    tree: ir.Node
    source: str

    @property
    def title(self) -> str:
        return self.sigma.title

    def applies_to(self, rule: DetectionRule) -> bool:
        if rule.sigma.logsource not in self.sigma.logsource:
            return False
        refs = self.sigma.filter.rules
        if isinstance(refs, str):  # "any"
            return True
        keys = {str(rule.sigma.id)} if rule.sigma.id else set()
        if rule.sigma.name:
            keys.add(rule.sigma.name)
        return any(ref.reference in keys for ref in refs)


@dataclass
class Loaded:
    rules: list[DetectionRule] = field(default_factory=list)
    filters: list[LoadedFilter] = field(default_factory=list)
    correlations: list[SigmaCorrelationRule] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)


def _error(source: str, exc: BaseException, sigma: SigmaRule | SigmaFilter | None = None) -> RuleError:
    title = sigma.title if sigma is not None else None
    rule_id = str(sigma.id) if sigma is not None and sigma.id else None
    reason = str(exc) or type(exc).__name__
    return RuleError(source, reason, title, rule_id)


def _triple(rule: SigmaRule) -> Triple:
    ls = rule.logsource
    return (ls.product, ls.category, ls.service)


def load_sources(sources: Iterable[tuple[str, str | Exception]], ctx: ValueContext) -> Loaded:
    """Parse (name, YAML text) pairs; names appear in errors and on matches. A text that is an
    exception (the file could not be read) is reported as such."""
    loaded = Loaded()
    collection_members: list[SigmaRule | SigmaCorrelationRule] = []
    correlation_sources: dict[int, str] = {}
    for name, text in sources:
        if isinstance(text, Exception):
            loaded.errors.append(_error(name, text))
            continue
        try:
            collection = SigmaCollection.from_yaml(
                text, collect_errors=True, collect_filters=True, resolve_references=False
            )
        except Exception as exc:  # YAML syntax, or pySigma refusing the whole file
            loaded.errors.append(_error(name, exc))
            continue
        objects = [*collection.rules, *collection.filters]
        # Errors pySigma attaches to the collection but to no single rule (e.g. an unknown action).
        loaded.errors.extend(_error(name, e) for e in collection.errors if not any(e in o.errors for o in objects))
        for obj in objects:
            if obj.errors:
                loaded.errors.extend(_error(name, e, obj) for e in obj.errors)  # type: ignore[arg-type]
                continue
            if isinstance(obj, SigmaCorrelationRule):
                loaded.correlations.append(obj)
                collection_members.append(obj)
                correlation_sources[id(obj)] = name
            elif isinstance(obj, SigmaFilter):
                try:
                    tree = optimize(detection_to_ir(obj.filter, ctx))
                except (Unsupported, SigmaError, KeyError, ValueError) as exc:
                    loaded.errors.append(_error(name, exc, obj))
                    continue
                loaded.filters.append(LoadedFilter(obj, tree, name))
            elif isinstance(obj, SigmaRule):
                collection_members.append(obj)
                try:
                    tree = optimize(detection_to_ir(obj.detection, ctx))
                except (Unsupported, SigmaError, KeyError, ValueError) as exc:
                    loaded.errors.append(_error(name, exc, obj))
                    continue
                match = Match(
                    rule_id=str(obj.id) if obj.id else None,
                    title=obj.title,
                    level=str(obj.level) if obj.level else None,
                    tags=tuple(str(t) for t in obj.tags),
                    name=obj.name,
                    source=name,
                )
                loaded.rules.append(DetectionRule(len(loaded.rules), obj, tree, _triple(obj), match, name))
    _resolve_correlations(loaded, collection_members, correlation_sources)
    for f in loaded.filters:
        for rule in loaded.rules:
            if f.applies_to(rule):
                rule.filters.append(f)
    return loaded


def _resolve_correlations(
    loaded: Loaded, members: list[SigmaRule | SigmaCorrelationRule], sources: dict[int, str]
) -> None:
    """Bind each correlation's `rules:` references to the loaded rules (by id or name)."""
    if not loaded.correlations:
        return
    collection = SigmaCollection(members, resolve_references=False)  # type: ignore[arg-type]
    for corr in loaded.correlations:
        try:
            corr.resolve_rule_references(collection)
        except SigmaError as exc:
            loaded.errors.append(RuleError(sources[id(corr)], str(exc), corr.title, str(corr.id) if corr.id else None))


def read_paths(paths: Iterable[str | Path]) -> list[tuple[str, str | OSError | UnicodeError]]:
    """(name, text) for every `.yml`/`.yaml` file under the given files or folders, sorted.

    A path that cannot be read gives (name, the error) so the loader reports it like a bad rule.
    """
    out: list[tuple[str, str | OSError | UnicodeError]] = []
    for p in paths:
        path = Path(p)
        files = (
            sorted(f for f in path.rglob("*") if f.suffix in (".yml", ".yaml") and f.is_file())
            if path.is_dir()
            else [path]
        )
        for f in files:
            try:
                out.append((str(f), f.read_text(encoding="utf-8")))
            except (OSError, UnicodeError) as exc:
                out.append((str(f), exc))
    return out
