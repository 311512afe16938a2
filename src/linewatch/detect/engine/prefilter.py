"""Literal pre-filter: skip rules whose required text does not occur anywhere in the event.

For each rule we derive a *necessary literal set*: strings of which at least one must occur in the
event's lower-cased values for the rule to have any chance of matching.

- a string test contributes its longest fixed piece (an `endswith '\\whoami.exe'` needs that text);
- an OR needs one of its children: the union of their sets, or nothing if any child has none;
- an AND needs all of its children: any single child's set is valid, and we take the most selective
  (the one whose shortest literal is longest);
- NOT, regexes, CIDR, numeric comparisons, existence tests give none.

A rule with a set whose literals are all at least `MIN_LITERAL` characters long is registered in one
Aho-Corasick automaton per route bucket; per event, one pass of the automaton over the `\\0`-joined
lower-cased values yields the candidate rules. Rules without a usable set are evaluated on every
event of their bucket. This can only remove work, never matches: a rule outside the candidate set
provably cannot match (the test suite checks this against the unfiltered engine).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import ahocorasick

from . import ir

# Literals shorter than this occur in nearly every event (`.exe`, `\\`, `-`): not worth a lookup.
MIN_LITERAL = 3


def _test_literals(node: ir.Test) -> frozenset[str] | None:
    if node.op not in ir.STRING_OPS or node.op == ir.ANY:
        return None
    if node.op == ir.GLOB:
        pieces = node.arg.literals()
        if not pieces:
            return None
        best = max(pieces, key=len)
    else:
        best = node.arg
    if node.cased:
        # A case-sensitive match on the raw value implies the lower-cased literal in the lower-cased
        # value only when lower-casing works character by character, which holds for ASCII.
        if not best.isascii():
            return None
        best = best.lower()
    return frozenset((best,)) if best else None


def necessary_literals(node: ir.Node) -> frozenset[str] | None:
    """The rule's necessary literal set (see module doc), or None when it has none."""
    if isinstance(node, ir.Test):
        return _test_literals(node)
    if isinstance(node, ir.AnyOf):
        lits = set(node.equals) | set(node.prefixes) | set(node.suffixes) | set(node.contains)
        if node.cased:
            if not all(x.isascii() for x in lits):
                return None
            lits = {x.lower() for x in lits}
        if not lits or "" in lits:
            return None
        return frozenset(lits)
    if isinstance(node, ir.Or):
        acc: set[str] = set()
        for c in node.children:
            s = necessary_literals(c)
            if s is None:
                return None
            acc |= s
        return frozenset(acc)
    if isinstance(node, ir.And):
        best: frozenset[str] | None = None
        for c in node.children:
            s = necessary_literals(c)
            if s is not None and (best is None or _selectivity(s) > _selectivity(best)):
                best = s
        return best
    return None


def _selectivity(literals: frozenset[str]) -> tuple[int, int]:
    # Longer shortest-literal first (rarer in events), then fewer literals (fewer automaton hits).
    return (min(len(x) for x in literals), -len(literals))


def usable(literals: frozenset[str] | None) -> bool:
    return literals is not None and all(len(x) >= MIN_LITERAL for x in literals)


def haystack(low: Mapping[str, Any]) -> str:
    """The text the automaton runs over: every lower-cased value, NUL-separated.

    The separator keeps a literal from matching across two fields; values never contain NUL in
    practice, and if one did the pre-filter would only let more rules through.
    """
    parts: list[str] = []
    for v in low.values():
        if v.__class__ is str:
            parts.append(v)
        else:
            parts.extend(v)
    return "\0".join(parts)


class Prefilter:
    """Candidate selection for one bucket of rules.

    `items` are the bucket's rules in evaluation order, each with its literal set (or None).
    `candidates(text)` returns the positions to evaluate, in order.
    """

    __slots__ = ("always", "_automaton", "_positions", "literal_count")

    def __init__(self, literal_sets: Sequence[frozenset[str] | None]) -> None:
        by_literal: dict[str, list[int]] = {}
        always: list[int] = []
        for i, lits in enumerate(literal_sets):
            if usable(lits):
                for lit in lits:  # type: ignore[union-attr]
                    by_literal.setdefault(lit, []).append(i)
            else:
                always.append(i)
        self.always = tuple(always)
        self.literal_count = len(by_literal)
        self._positions = tuple(tuple(p) for p in by_literal.values())
        if by_literal:
            a = ahocorasick.Automaton()
            for index, lit in enumerate(by_literal):
                a.add_word(lit, index)
            a.make_automaton()
            self._automaton: Any = a
        else:
            self._automaton = None

    @property
    def active(self) -> bool:
        return self._automaton is not None

    def candidates(self, text: str) -> list[int]:
        if self._automaton is None:
            return list(self.always)
        found = {index for _, index in self._automaton.iter(text)}
        hit: set[int] = set(self.always)
        positions = self._positions
        for index in found:
            hit.update(positions[index])
        return sorted(hit)


def literal_sets(trees: Iterable[ir.Node]) -> list[frozenset[str] | None]:
    return [necessary_literals(t) for t in trees]
