"""Value matchers: Sigma wildcard strings, regular expressions and long OR-lists of substrings.

Sigma strings use `*` (any run) and `?` (one character) with `\\` escapes; pySigma has already split
them into plain parts and wildcard markers. Most real patterns are an equality, a prefix, a suffix or
a substring, and those become single C-level `str` calls. Only patterns with inner wildcards need the
`Glob` matcher here, which walks the fixed pieces left to right with `str.find` — never a regex,
because a backtracking regex over a 100 KB PowerShell script block is pathologically slow, and the
greedy leftmost walk is exact for `*`-separated pieces.
"""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ahocorasick
import re2

from . import ir

STAR = object()  # `*` in a tokenised pattern
QMARK = object()  # `?`

Token = str | object


def tokens_from_parts(parts: Sequence[object], star: object, qmark: object) -> list[Token]:
    """Normalise a pySigma `SigmaString.s` (strings and wildcard markers) into our tokens.

    Adjacent strings are merged and runs of `*` collapse to one, so classification is simple.
    """
    out: list[Token] = []
    for p in parts:
        if isinstance(p, str):
            if not p:
                continue
            if out and isinstance(out[-1], str):
                out[-1] = out[-1] + p
            else:
                out.append(p)
        elif p is star:
            if not (out and out[-1] is STAR):
                out.append(STAR)
        elif p is qmark:
            out.append(QMARK)
        else:  # pragma: no cover - callers resolve placeholders before this point
            raise TypeError(f"unexpected string part {p!r}")
    return out


def string_test(field_name: str | None, tokens: list[Token], cased: bool) -> ir.Node:
    """The cheapest IR test equivalent to a tokenised wildcard pattern on one field."""
    if not cased:
        tokens = [t.lower() if isinstance(t, str) else t for t in tokens]
    n = len(tokens)
    if n == 0:
        return ir.Test(field_name, ir.EQ, "", cased)
    if n == 1:
        t = tokens[0]
        if isinstance(t, str):
            return ir.Test(field_name, ir.EQ, t, cased)
        if t is STAR:
            return ir.Test(field_name, ir.ANY, None, cased)
    if QMARK not in tokens:
        if n == 2 and tokens[0] is STAR and isinstance(tokens[1], str):
            return ir.Test(field_name, ir.SUFFIX, tokens[1], cased)
        if n == 2 and tokens[1] is STAR and isinstance(tokens[0], str):
            return ir.Test(field_name, ir.PREFIX, tokens[0], cased)
        if n == 3 and tokens[0] is STAR and tokens[2] is STAR and isinstance(tokens[1], str):
            return ir.Test(field_name, ir.CONTAINS, tokens[1], cased)
    return ir.Test(field_name, ir.GLOB, Glob.from_tokens(tokens), cased)


@dataclass(frozen=True, slots=True)
class _Piece:
    """A run of a glob between two `*`: plain text, or text with `?` (matched by a fixed-width regex)."""

    text: str  # with `?` positions kept as "\0" placeholders for the literal view
    regex: re.Pattern[str] | None  # set when the piece has `?`
    width: int

    @classmethod
    def of(cls, toks: list[Token]) -> _Piece:
        if all(isinstance(t, str) for t in toks):
            s = "".join(toks)  # type: ignore[arg-type]
            return cls(s, None, len(s))
        pattern = "".join("." if t is QMARK else re.escape(t) for t in toks)  # type: ignore[arg-type]
        text = "".join("\0" if t is QMARK else t for t in toks)  # type: ignore[misc]
        return cls(text, re.compile(pattern, re.DOTALL), len(text))

    def match_at(self, s: str, pos: int) -> bool:
        if self.regex is None:
            return s.startswith(self.text, pos)
        return self.regex.match(s, pos) is not None

    def find(self, s: str, start: int, end: int) -> int:
        if self.regex is None:
            return s.find(self.text, start, end)
        m = self.regex.search(s, start, end)
        return -1 if m is None else m.start()

    def literals(self) -> list[str]:
        return [p for p in self.text.split("\0") if p]


@dataclass(frozen=True, slots=True)
class Glob:
    """A wildcard pattern with inner `*` or any `?`, matched by walking its fixed pieces.

    `head` must match at the start (unless the pattern starts with `*`), `tail` at the end (unless it
    ends with `*`), and each middle piece is found leftmost after the previous one. Taking the leftmost
    occurrence is always safe because a later piece can only gain room from an earlier match.
    """

    head: _Piece | None
    middle: tuple[_Piece, ...]
    tail: _Piece | None
    exact: _Piece | None = None  # no `*` at all: the whole value must match (only `?` wildcards)
    source: str = field(default="", compare=False)

    @classmethod
    def from_tokens(cls, tokens: list[Token]) -> Glob:
        source = "".join("*" if t is STAR else "?" if t is QMARK else t for t in tokens)  # type: ignore[misc]
        if STAR not in tokens:
            return cls(None, (), None, _Piece.of(tokens), source)
        groups: list[list[Token]] = [[]]
        for t in tokens:
            if t is STAR:
                groups.append([])
            else:
                groups[-1].append(t)
        head = _Piece.of(groups[0]) if groups[0] else None
        tail = _Piece.of(groups[-1]) if groups[-1] else None
        middle = tuple(_Piece.of(g) for g in groups[1:-1] if g)
        return cls(head, middle, tail, None, source)

    def __call__(self, s: str) -> bool:
        if self.exact is not None:
            return len(s) == self.exact.width and self.exact.match_at(s, 0)
        pos = 0
        end = len(s)
        if self.head is not None:
            if not self.head.match_at(s, 0):
                return False
            pos = self.head.width
        if self.tail is not None:
            end = len(s) - self.tail.width
            if end < pos or not self.tail.match_at(s, end):
                return False
        for piece in self.middle:
            i = piece.find(s, pos, end)
            if i < 0:
                return False
            pos = i + piece.width
        return True

    def literals(self) -> list[str]:
        """Every fixed run of characters a matching value must contain (for the pre-filter)."""
        pieces = [p for p in (self.exact, self.head, *self.middle, self.tail) if p is not None]
        return [lit for p in pieces for lit in p.literals()]

    def __repr__(self) -> str:
        return f"Glob({self.source!r})"


# Values longer than this are searched with RE2, whose run time is linear in the input; shorter ones
# with Python's `re`, which is ~10x faster per call on short strings (command lines, paths).
RE2_THRESHOLD = 4096


@dataclass(frozen=True, slots=True)
class Regex:
    """A Sigma `re` value: searched anywhere in the value (unanchored, like PCRE's default).

    pySigma has already checked the pattern against RE2's syntax (its default policy), so both engines
    accept it; Python's engine gets `re.ASCII` so that `\\w`, `\\d`, `\\s` mean what they mean in PCRE
    and RE2. `required` are literal runs one of which every match contains (see `required_literals`):
    a plain `in` check on them skips most regex searches at C speed.
    """

    pattern: str
    flags: str  # a subset of "ims"
    fast: re.Pattern[str] = field(compare=False)
    safe: object = field(compare=False)
    required: frozenset[str] | None = field(default=None, compare=False)
    fold: bool = field(default=False, compare=False)  # `required` is lower-cased: search the lowered value

    @classmethod
    def compile(cls, pattern: str, flags: str = "") -> Regex:
        pyflags = re.ASCII
        pyflags |= re.IGNORECASE if "i" in flags else 0
        pyflags |= re.MULTILINE if "m" in flags else 0
        pyflags |= re.DOTALL if "s" in flags else 0
        fast = re.compile(pattern, pyflags)
        inline = f"(?{flags})" if flags else ""
        safe = re2.compile(inline + pattern)
        required, fold = required_literals(fast)
        return cls(pattern, flags, fast, safe, required, fold)

    def __call__(self, s: str) -> bool:
        required = self.required
        if required is not None:
            text = s.lower() if self.fold else s
            for lit in required:
                if lit in text:
                    break
            else:
                return False
        if len(s) <= RE2_THRESHOLD:
            return self.fast.search(s) is not None
        return self.safe.search(s) is not None  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"Regex({self.pattern!r}, {self.flags!r})"


_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT)


def _selectivity(literals: frozenset[str]) -> tuple[int, int]:
    return (min(len(x) for x in literals), -len(literals))


def _sequence_literals(items: Any, fold: bool) -> frozenset[str] | None:
    """Necessary literal runs of a parsed regex sequence, which is an AND of its elements."""
    found: list[frozenset[str]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            text = "".join(run)
            # Non-ASCII runs may case-fold differently in context; ASCII ones are exact.
            if text.isascii():
                found.append(frozenset((text.lower() if fold else text,)))
            run.clear()

    for op, av in items:
        if op is sre_constants.LITERAL:
            run.append(chr(av))
            continue
        flush()
        sub: frozenset[str] | None = None
        if op is sre_constants.SUBPATTERN:
            _group, add_flags, _del_flags, body = av
            sub = _sequence_literals(body, fold or bool(add_flags & re.IGNORECASE))
        elif op in _REPEATS:
            low, _high, body = av
            if low >= 1:
                sub = _sequence_literals(body, fold)
        elif op is sre_constants.ATOMIC_GROUP:
            sub = _sequence_literals(av, fold)
        elif op is sre_constants.BRANCH:
            branches = [_sequence_literals(b, fold) for b in av[1]]
            if all(b is not None for b in branches):
                sub = frozenset().union(*branches)  # type: ignore[arg-type]
        # IN, ANY, AT, CATEGORY, GROUPREF, ASSERT…: require no particular text
        if sub:
            found.append(sub)
    flush()
    return max(found, key=_selectivity) if found else None


def required_literals(compiled: re.Pattern[str]) -> tuple[frozenset[str] | None, bool]:
    """Literal runs one of which occurs in every match, from CPython's own regex parser, and whether
    they are lower-cased (then the value must be lower-cased before looking for them).

    A regex made only of classes and wildcards has none.
    """
    try:
        parsed = sre_parse.parse(compiled.pattern, compiled.flags)
    except Exception:  # pragma: no cover - it compiled, so it parses
        return None, False
    if parsed.state.flags & re.IGNORECASE or "(?" in compiled.pattern:
        # Wholly or partly case-insensitive (an inline `(?i:…)` group): compare everything folded.
        return _sequence_literals(list(parsed), True), True
    return _sequence_literals(list(parsed), False), False


# OR-lists of substrings longer than this run through one Aho-Corasick automaton instead of a chain of
# `in` tests: a chain costs one scan of the value per literal.
CONTAINS_AUTOMATON_MIN = 8


class ContainsAny:
    """`any(lit in value for lit in literals)` in one automaton pass over the value.

    Literals with non-ASCII characters (emoji, homoglyph lists) are only searched when the value
    itself is not pure ASCII — they cannot occur otherwise, and `str.isascii()` is nearly free.
    """

    __slots__ = ("literals", "_ascii", "_other")

    def __init__(self, literals: Sequence[str]) -> None:
        self.literals = tuple(literals)
        ascii_lits = [x for x in self.literals if x.isascii()]
        other = [x for x in self.literals if not x.isascii()]
        self._ascii = _automaton(ascii_lits) if ascii_lits else None
        self._other = _automaton(other) if other else None

    def __call__(self, s: str) -> bool:
        if self._ascii is not None:
            for _ in self._ascii.iter(s):
                return True
        if self._other is not None and not s.isascii():
            for _ in self._other.iter(s):
                return True
        return False

    def __repr__(self) -> str:
        return f"ContainsAny({len(self.literals)} literals)"


def _automaton(words: Sequence[str]) -> Any:
    a = ahocorasick.Automaton()
    for i, w in enumerate(words):
        a.add_word(w, i)
    a.make_automaton()
    return a
