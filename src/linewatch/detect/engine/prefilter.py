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

import re
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

import ahocorasick

from . import ir
from .strings import Regex

# ASCII literals shorter than this occur in nearly every event (`.exe`, `\\`, `-`): not worth a lookup.
# A literal with a non-ASCII character is rare in logs whatever its length (an emoji, a Cyrillic
# homoglyph), so it is always usable; see `usable`.
MIN_LITERAL = 3


def regex_literals(regex: Regex) -> frozenset[str] | None:
    """Literals (lower-cased) any match of a regex must contain."""
    if regex.required is None:
        return None
    return frozenset(x.lower() for x in regex.required)


def _test_literals(node: ir.Test) -> frozenset[str] | None:
    if node.op == ir.REGEX:
        return regex_literals(node.arg)
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
    # A non-ASCII character counts as rare as a few ASCII ones.
    return (min(len(x) if x.isascii() else len(x) + MIN_LITERAL for x in literals), -len(literals))


def usable(literals: frozenset[str] | None) -> bool:
    return literals is not None and bool(literals) and all(len(x) >= MIN_LITERAL or not x.isascii() for x in literals)


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


def build_automaton(words: Iterable[str]) -> Any:
    """A pyahocorasick automaton whose value for each word is its position in `words`."""
    a = ahocorasick.Automaton()
    for index, word in enumerate(words):
        a.add_word(word, index)
    a.make_automaton()
    return a


_NON_ASCII = re.compile("[\u0080-\U0010ffff]")
_VALUE = itemgetter(1)  # (end position, value) -> value


class Prefilter:
    """Candidate selection for one bucket of rules.

    Built from the bucket's literal sets (one per rule, None when a rule has none); `candidates(text)`
    returns the positions of the rules to evaluate, in order.

    ASCII literals go into one Aho-Corasick automaton. Literals with a non-ASCII character (emoji and
    homoglyph lists, Unicode dashes) are indexed by their first non-ASCII character instead: an
    automaton with thousands of distinct first characters is several times slower per character,
    while the few non-ASCII characters of an event (often just the `®` in Sysmon's Product field)
    are found with one regex scan, and a literal cannot occur without its characters. That test is
    weaker than the literal itself but still sound.
    """

    __slots__ = ("always", "literal_count", "_automaton", "_positions", "_by_char")

    def __init__(self, literal_sets: Sequence[frozenset[str] | None]) -> None:
        ascii_lits: dict[str, list[int]] = {}
        by_char: dict[str, list[int]] = {}
        always: list[int] = []
        for i, lits in enumerate(literal_sets):
            if usable(lits):
                for lit in lits:  # type: ignore[union-attr]
                    if lit.isascii():
                        ascii_lits.setdefault(lit, []).append(i)
                    else:
                        first = _NON_ASCII.search(lit).group()  # type: ignore[union-attr]
                        positions = by_char.setdefault(first, [])
                        if not positions or positions[-1] != i:
                            positions.append(i)
            else:
                always.append(i)
        self.always = tuple(always)
        self.literal_count = len(ascii_lits) + len(by_char)
        self._automaton = build_automaton(ascii_lits) if ascii_lits else None
        self._positions = tuple(tuple(p) for p in ascii_lits.values())
        self._by_char = {c: tuple(p) for c, p in by_char.items()}

    @property
    def active(self) -> bool:
        return self._automaton is not None or bool(self._by_char)

    def candidates(self, text: str) -> list[int]:
        hit: set[int] = set(self.always)
        if self._automaton is not None:
            positions = self._positions
            # map/itemgetter/set run in C: no bytecode per literal occurrence (~30 per Sysmon event)
            for index in set(map(_VALUE, self._automaton.iter(text))):
                hit.update(positions[index])
        if self._by_char and not text.isascii():
            by_char = self._by_char
            for c in set(_NON_ASCII.findall(text)):
                found = by_char.get(c)
                if found is not None:
                    hit.update(found)
        return sorted(hit)
