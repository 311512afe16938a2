"""Fuzzy watchlist matching for visitor registration and sign-in (rapidfuzz, no Django).

Names arrive typed by hosts and visitors: accents dropped or not, given and family name swapped,
a middle name added, a letter wrong. Matching folds accents and case, compares the token-sorted
names (order-free) and the token sets (a middle name does not hide anyone), and takes the best of
the entry's name and aliases. A company on the entry raises a match's score when it matches too,
never lowers it: people change employers."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

THRESHOLD = 88.0


@dataclass(frozen=True)
class WatchlistRecord:
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    company: str = ""
    reason: str = ""
    level: str = "high"  # high, or critical for a banned person
    sites: frozenset[str] = frozenset()  # site slugs where it applies (its organisation's, or its one site); empty: all
    expires_on: dt.date | None = None  # the last day it applies


@dataclass(frozen=True)
class WatchlistMatch:
    entry: WatchlistRecord
    matched: str  # the name or alias that matched
    score: float
    company_matches: bool


def fold(text: str) -> str:
    """Lower case, accents removed (ß → ss), punctuation as spaces, single-spaced."""
    text = unicodedata.normalize("NFKD", text.replace("ß", "ss").replace("ẞ", "ss"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def score(a: str, b: str) -> float:
    x, y = fold(a), fold(b)
    if not x or not y:
        return 0.0
    both_multi = " " in x and " " in y
    set_score = fuzz.token_set_ratio(x, y) if both_multi else 0.0  # one shared word is no match
    return max(fuzz.token_sort_ratio(x, y), set_score)


def in_force(entries: Iterable[WatchlistRecord], site: str, day: dt.date) -> list[WatchlistRecord]:
    """The entries that apply at `site` on `day` (the site's local date): an organisation's entries
    do not reach another organisation's visitors, a plant's own entries not another plant's, and an
    entry past its last day matches nobody."""
    return [e for e in entries if (not e.sites or site in e.sites) and (e.expires_on is None or day <= e.expires_on)]


def match(name: str, company: str, entries: list[WatchlistRecord],
          threshold: float = THRESHOLD) -> list[WatchlistMatch]:
    """Entries whose name or an alias matches `name`, best first."""
    found = []
    for entry in entries:
        best, matched = max((score(name, n), n) for n in (entry.name, *entry.aliases))
        firm = bool(entry.company and company and fuzz.token_sort_ratio(fold(entry.company), fold(company)) >= 90)
        if best >= threshold or (firm and best >= threshold - 8):
            found.append(WatchlistMatch(entry, matched, round(best, 1), firm))
    found.sort(key=lambda m: (-m.score, m.entry.id))
    return found
