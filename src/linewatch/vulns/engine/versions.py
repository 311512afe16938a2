"""Firmware versions as comparable tuples, and the version ranges advisories write.

Vendors write firmware in many shapes, none of which `packaging.version` accepts:

* Siemens ``V2.9.4``, ``V4.7 HF27``, ``V7.4 SP1``  -> (2, 9, 4, 0, 0), (4, 7, 0, 0, 27), (7, 4, 0, 1, 0):
  three release numbers, then service pack, then hotfix.
* Rockwell/CIP ``33.011``, ``4.03``                 -> (33, 11), (4, 3): major.minor, minor read as a number.
* Hikvision ``V5.5.0 build 170725``, ``1.4.0_build221212`` -> (5, 5, 0, 170725): the build date is the last part.
* Schneider ``A11_U05``                              -> (11, 5): letter-prefixed release, then update.
* anything else: numbers in order, letters kept as text (``1.000.HW00.21`` -> (1, 0, 'hw', 0, 21)).

`Version.key` compares numbers with numbers and text with text, so two parsed versions always compare.
Missing trailing parts count as zero (``V3.5`` == ``V3.5.0``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

_SIEMENS = re.compile(r"^v?(\d+(?:\.\d+)*)(?:\s*(?:sp)\s*(\d+))?(?:\s*(?:hf|hotfix|upd)\s*(\d+))?$")
_BUILD = re.compile(r"^v?(\d+(?:\.\d+)*)[\s_\-]*build[\s_\-]*(\d+)$")
_SCHNEIDER = re.compile(r"^[a-z](\d+)[_\-\s]*u(\d+)$")
_TOKEN = re.compile(r"\d+|[a-z]+")

SIEMENS = {"siemens"}
HIKVISION = {"hikvision", "hikvision digital technology", "hangzhou hikvision"}
SCHNEIDER = {"schneider electric", "schneider"}


Part = int | str


@dataclass(frozen=True)
class Version:
    """A firmware version as written (`raw`) and as parsed (`parts`)."""

    raw: str
    parts: tuple[Part, ...]
    scheme: str = "generic"
    key: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = list(self.parts)
        while parts and parts[-1] == 0:
            parts.pop()
        object.__setattr__(self, "key", tuple((1, p, "") if isinstance(p, int) else (0, 0, p) for p in parts))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other: Version) -> bool:
        return self.key < other.key

    def __le__(self, other: Version) -> bool:
        return self.key <= other.key

    def __gt__(self, other: Version) -> bool:
        return self.key > other.key

    def __ge__(self, other: Version) -> bool:
        return self.key >= other.key

    def __str__(self) -> str:
        return self.raw


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip())


@lru_cache(maxsize=65536)
def parse_version(text: str, vendor: str | None = None) -> Version | None:
    """Parse a firmware version; None when the text holds no number at all (``-``, ``*``, ``unknown``)."""
    raw = text.strip()
    t = _clean(text).lower()
    if t.startswith("version "):
        t = t[8:]
    if not re.search(r"\d", t):
        return None
    v = (vendor or "").lower()
    m = _BUILD.match(t)
    if m:
        nums = [int(x) for x in m.group(1).split(".")]
        nums += [0] * (3 - len(nums))
        return Version(raw, (*nums, int(m.group(2))), "build")
    m = _SCHNEIDER.match(t)
    if m and (v in SCHNEIDER or not v):
        return Version(raw, (int(m.group(1)), int(m.group(2))), "schneider")
    m = _SIEMENS.match(t)
    if m and (m.group(2) or m.group(3) or v in SIEMENS):
        nums = [int(x) for x in m.group(1).split(".")][:3]
        nums += [0] * (3 - len(nums))
        return Version(raw, (*nums, int(m.group(2) or 0), int(m.group(3) or 0)), "siemens")
    t = re.sub(r"^v(?=\d)", "", t)
    parts: list[Part] = [int(tok) if tok.isdigit() else tok for tok in _TOKEN.findall(t)]
    return Version(raw, tuple(parts), "generic")


# ---------------------------------------------------------------------------------------------- ranges


@dataclass(frozen=True)
class Bound:
    op: str  # one of < <= > >= =
    version: Version

    def admits(self, v: Version) -> bool:
        return {
            "<": v < self.version, "<=": v <= self.version, ">": v > self.version,
            ">=": v >= self.version, "=": v == self.version,
        }[self.op]

    def __str__(self) -> str:
        return f"{self.op} {self.version.raw}"


@dataclass(frozen=True)
class VersionRange:
    """A set of versions: all bounds must hold. `all_versions` means the advisory names no limit;
    `free_text` holds a range we could not read (a human must)."""

    bounds: tuple[Bound, ...] = ()
    all_versions: bool = False
    free_text: str | None = None

    @property
    def structured(self) -> bool:
        return self.free_text is None and not self.all_versions and bool(self.bounds)

    def contains(self, v: Version) -> bool | None:
        """True/False when decidable, None when the range is free text."""
        if self.free_text is not None:
            return None
        if self.all_versions:
            return True
        return all(b.admits(v) for b in self.bounds)

    def __str__(self) -> str:
        if self.free_text is not None:
            return self.free_text
        if self.all_versions:
            return "all versions"
        return " and ".join(str(b) for b in self.bounds)


_OP = re.compile(r"^(<=|>=|=<|=>|<|>|=|==)\s*(.+)$")


@lru_cache(maxsize=65536)
def nvd_range(version: str | None, start_incl: str | None, start_excl: str | None, end_incl: str | None,
              end_excl: str | None, vendor: str | None = None) -> VersionRange:
    """The range a NVD `cpeMatch` entry describes: the CPE version field and the four bound fields.

    A CPE version of ``*`` without bounds means every version; ``-`` means "not applicable" (NVD puts
    it on device firmware whose affected versions live only in prose) and is treated as unbounded too.
    """
    bounds: list[Bound] = []
    for op, text in ((">=", start_incl), (">", start_excl), ("<=", end_incl), ("<", end_excl)):
        if text:
            pv = parse_version(text, vendor)
            if pv is None:
                return VersionRange(free_text=f"{op} {text}")
            bounds.append(Bound(op, pv))
    if version and version not in ("*", "-"):
        pv = parse_version(version, vendor)
        if pv is None:
            return VersionRange(free_text=version)
        bounds.append(Bound("=", pv))
    if not bounds:
        return VersionRange(all_versions=True)
    return VersionRange(tuple(bounds))


@lru_cache(maxsize=65536)
def parse_range(text: str, vendor: str | None = None) -> VersionRange:
    """Read the version ranges CSAF advisories carry.

    Handles ``vers:`` (including CISA's ``vers:all/...``), operator-prefixed text joined by ``|``
    (``>= 5.3.1 build 150410 | <= 5.4.4 Build 161125``), ``All versions < V7.4 SP1``, ``All versions``,
    ``V5.2.0 build 140721 to V5.4.0 build 160530`` and ``prior to 3.1``. Anything else is kept as free text.
    """
    t = _clean(text)
    low = t.lower()
    if not t:
        return VersionRange(free_text=text)
    if low.startswith("vers:"):
        body = t.split("/", 1)[1] if "/" in t else ""
        if body.strip() in ("*", ""):
            return VersionRange(all_versions=True)
        return _bounds(body.split("|"), text, vendor)
    t = re.sub(r"^all versions\s*", "", t, flags=re.I)
    if t.lower() in ("", "*", "all"):
        return VersionRange(all_versions=True)
    m = re.match(r"^(?:prior to|before|earlier than)\s+(.+)$", t, re.I)
    if m:
        return _bounds([f"< {m.group(1)}"], text, vendor)
    m = re.match(r"^(?:from\s+)?(.+?)\s+(?:to|through|-)\s+(.+)$", t, re.I)
    if m and not _OP.match(t):
        return _bounds([f">= {m.group(1)}", f"<= {m.group(2)}"], text, vendor)
    parts = re.split(r"\s*(?:\||,|\band\b)\s*", t, flags=re.I)
    if all(_OP.match(p) for p in parts if p):
        return _bounds(parts, text, vendor)
    pv = parse_version(t, vendor)
    single = re.sub(r"\s+(build|sp|hf)\s*", r"_\1", t, flags=re.I)
    if pv is not None and not re.search(r"\s", single):
        return VersionRange((Bound("=", pv),))
    return VersionRange(free_text=text)


def _bounds(parts: list[str], text: str, vendor: str | None) -> VersionRange:
    bounds: list[Bound] = []
    for p in parts:
        p = p.strip()
        if not p:
            continue
        m = _OP.match(p)
        if not m:
            return VersionRange(free_text=text)
        op = {"=<": "<=", "=>": ">=", "==": "="}.get(m.group(1), m.group(1))
        if m.group(2).strip() == "*":
            continue
        pv = parse_version(m.group(2), vendor)
        if pv is None:
            return VersionRange(free_text=text)
        bounds.append(Bound(op, pv))
    if not bounds:
        return VersionRange(all_versions=True)
    return VersionRange(tuple(bounds))
