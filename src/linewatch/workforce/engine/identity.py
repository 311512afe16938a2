"""Identity resolution for credentials whose records are incomplete: link card numbers to people
by the organisation's naming rule, and infer re-issues from the order cards first appear.

Real PACS exports are messy (the VAST 2016 data: 7 of 122 prox-ids break the rule). A card that
no rule resolves is a finding of its own — an identity nobody answers for — and `suggest` offers
the nearest people by fuzzy match for a human to confirm, never an automatic link.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, process

SERIAL = re.compile(r"^(?P<base>[a-z][a-z.\-_]*?)(?P<issue>\d{1,4})$")


@dataclass(frozen=True)
class Resolution:
    credential: str
    base: str
    issue: int
    person: str | None  # person key, or None when no rule resolved it
    method: str  # "rule" or "unresolved"
    suggestions: tuple[tuple[str, float], ...] = ()


def naming_rule(first: str, last: str) -> str:
    """The default rule: first initial + surname, lower case, letters only."""
    letters = re.sub(r"[^a-z]", "", last.lower())
    return (first[:1].lower() + letters) if first else letters


def resolve(credentials: Iterable[str], people: Mapping[str, tuple[str, str]]) -> dict[str, Resolution]:
    """`people`: key -> (first name, last name). Each credential `<base><issue>` resolves when its
    base is exactly some person's naming-rule name."""
    by_rule: dict[str, list[str]] = defaultdict(list)
    for key, (first, last) in people.items():
        by_rule[naming_rule(first, last)].append(key)
    choices = {key: naming_rule(*names) for key, names in people.items()}
    out = {}
    for cred in credentials:
        match = SERIAL.match(cred.lower())
        base, issue = (match["base"], int(match["issue"])) if match else (cred.lower(), 0)
        keys = by_rule.get(base, [])
        if len(keys) == 1:
            out[cred] = Resolution(cred, base, issue, keys[0], "rule")
        else:
            near = process.extract(base, choices, scorer=fuzz.WRatio, limit=3)
            out[cred] = Resolution(cred, base, issue, None, "unresolved",
                                   tuple((key, round(score, 1)) for _, score, key in near))
    return out


def reissues(first_seen: Mapping[str, int]) -> dict[str, list[tuple[str, int, int]]]:
    """Group `<base><issue>` credentials by base; each group lists (credential, issue, first seen)
    in issue order — the later issue supersedes the earlier from its first use."""
    groups: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for cred, seen in first_seen.items():
        match = SERIAL.match(cred.lower())
        if match:
            groups[match["base"]].append((cred, int(match["issue"]), seen))
    return {base: sorted(items, key=lambda x: x[1]) for base, items in groups.items()}


def serial_reissues(groups: Mapping[str, list[tuple[str, int, int]]], count: int = 3,
                    within_ms: int = 7 * 86400_000) -> list[tuple[str, list[tuple[str, int, int]]]]:
    """People given `count` or more credentials within `within_ms`: a badge-sharing or fraud pattern."""
    found = []
    for base, items in groups.items():
        for i in range(len(items) - count + 1):
            window = items[i:i + count]
            if window[-1][2] - window[0][2] <= within_ms:
                found.append((base, items))
                break
    return found
