"""Vendor, product and model names brought to one form so that feeds and devices can meet.

* Vendors: lower case, legal suffixes dropped, then an alias table (``Siemens AG`` -> ``siemens``,
  ``Allen-Bradley`` and ``rockwellautomation`` -> ``rockwell``).
* Models: `model_key` keeps letters and digits only (``DS-2CD2142FWD-I`` -> ``ds2cd2142fwdi``), so punctuation,
  case and stray spaces (``DS- 2CD4x2xFWD``) do not matter.
* Families: CSAF names products like ``DS-2CD2xx2FWD Series`` or ``DS-K1T804AXX``; an ``x`` inside a code that
  contains digits stands for any one character. `family_pattern` turns such a name into a regular expression.
"""

from __future__ import annotations

import re
from functools import lru_cache

VENDOR_ALIASES: dict[str, str] = {
    "siemens": "siemens",
    "rockwell": "rockwell", "rockwell automation": "rockwell", "rockwellautomation": "rockwell",
    "allen bradley": "rockwell", "allen-bradley": "rockwell", "allenbradley": "rockwell", "ab": "rockwell",
    "hikvision": "hikvision", "hangzhou hikvision digital technology": "hikvision",
    "hangzhou hikvision": "hikvision", "hikvision digital technology": "hikvision",
    "schneider electric": "schneider", "schneider": "schneider", "schneider-electric": "schneider",
    "schneider_electric": "schneider", "modicon": "schneider", "telemecanique": "schneider",
    "axis": "axis", "axis communications": "axis",
    "honeywell": "honeywell", "honeywell international": "honeywell",
    "lenels2": "lenels2", "lenel": "lenels2", "lenel s2": "lenels2", "carrier": "lenels2",
    "dahua": "dahua", "zhejiang dahua": "dahua", "dahuasecurity": "dahua",
    "mitsubishi electric": "mitsubishi", "mitsubishielectric": "mitsubishi", "mitsubishi": "mitsubishi",
    "phoenix contact": "phoenixcontact", "phoenixcontact": "phoenixcontact",
    "moxa": "moxa", "d-link": "dlink", "dlink": "dlink", "cisco": "cisco", "cisco systems": "cisco",
    "omron": "omron", "wago": "wago", "beckhoff": "beckhoff", "abb": "abb", "ge": "ge", "general electric": "ge",
}

_SUFFIXES = re.compile(
    r"[\s,]+(ag|gmbh|inc|incorporated|corp|corporation|co|ltd|limited|llc|plc|sa|se|s\.a|bv|nv|kg|"
    r"co\.,? ltd|technologies|technology|systems)\.?$"
)


@lru_cache(maxsize=65536)
def vendor_key(name: str | None) -> str:
    """Canonical vendor name: ``Siemens AG`` -> ``siemens``, ``Allen-Bradley`` -> ``rockwell``."""
    if not name:
        return ""
    n = re.sub(r"\s+", " ", name.strip().lower().replace("_", " "))
    n = n.replace("\\", "")
    for _ in range(3):
        m = _SUFFIXES.search(n)
        if not m:
            break
        n = n[: m.start()].strip(" ,.")
    if n in VENDOR_ALIASES:
        return VENDOR_ALIASES[n]
    compact = re.sub(r"[^a-z0-9]", "", n)
    if compact in VENDOR_ALIASES:
        return VENDOR_ALIASES[compact]
    canonical = set(VENDOR_ALIASES.values())
    for word in n.split(" "):
        if len(word) >= 4 and word in canonical:
            return word
    return compact


@lru_cache(maxsize=65536)
def model_key(name: str | None) -> str:
    """Letters and digits only, lower case: the form in which two model names are compared."""
    if not name:
        return ""
    return re.sub(r"[^a-z0-9]", "", name.lower().replace("\\", ""))


_SERIES = re.compile(r"\b(series|family|models?|devices|controllers?|cameras?|products)\b", re.I)


@lru_cache(maxsize=65536)
def product_names(name: str, vendor: str | None = None) -> tuple[str, ...]:
    """The names a CSAF/NVD product goes by: the name without vendor words or ``Series``, and any order
    number in parentheses (``SIMATIC S7-1500 CPU 1518-4 PN/DP MFP (6ES7518-4AX00-1AB0)``)."""
    names: list[str] = []
    for inner in re.findall(r"\(([^)]+)\)", name):
        names.append(inner)
    base = re.sub(r"\([^)]*\)", " ", name)
    base = re.sub(r"[:].*$", "", base) if ":" in base else base
    base = _SERIES.sub(" ", base)
    vk = vendor_key(vendor)
    words = base.split()
    while words and (vendor_key(words[0]) == vk and vk):
        words = words[1:]
    names.insert(0, " ".join(words))
    return tuple(n for n in names if model_key(n))


@lru_cache(maxsize=65536)
def family_pattern(name: str) -> re.Pattern[str] | None:
    """A regex over `model_key` strings for a name with ``x`` wildcards, or None when it has none.

    An ``x`` counts as a wildcard only inside a token that also contains a digit (``2CD2xx2FWD``,
    ``K1T804AXX``, ``6ES7 5xx``), so words such as ``Axis`` or ``Max`` are left alone.
    """
    out: list[str] = []
    wild = False
    for token in re.split(r"[^A-Za-z0-9]+", _SERIES.sub(" ", name.replace("\\", ""))):
        if not token:
            continue
        if re.search(r"\d", token) and re.search(r"[xX]", token):
            wild = True
            out.append("".join("[0-9a-z]" if c in "xX" else re.escape(c.lower()) for c in token))
        else:
            out.append(re.escape(token.lower()))
    if not wild:
        return None
    # A family names a prefix: variants add suffixes (DS-2CD2142FWD-I in DS-2CD2xx2FWD).
    return re.compile("".join(out) + "[0-9a-z]*")


@lru_cache(maxsize=65536)
def same_model(device_model: str, product_name: str, vendor: str | None = None) -> str | None:
    """How a device model relates to a product name: ``exact``, ``family`` (wildcard or series prefix) or None."""
    dk = model_key(device_model)
    if not dk:
        return None
    vk = vendor_key(vendor)
    dk_novendor = dk[len(vk):] if vk and dk.startswith(vk) and len(dk) > len(vk) + 2 else dk
    if model_key(product_name) in (dk, dk_novendor):
        return "exact"
    candidates = product_names(product_name, vendor)
    for cand in candidates:
        ck = model_key(cand)
        if ck in (dk, dk_novendor):
            return "exact"
        # "CompactLogix 1768-L43" vs a device reported as "1768-L43": drop leading alphabetic family words.
        words = [w for w in re.split(r"[\s_]+", cand) if w]
        while len(words) > 1 and words[0].isalpha():
            words = words[1:]
            if model_key(" ".join(words)) in (dk, dk_novendor):
                return "exact"
    for cand in candidates:
        pat = family_pattern(cand)
        if pat and (pat.fullmatch(dk) or pat.fullmatch(dk_novendor)):
            return "family"
    return None


# Product families a model belongs to, for "possible" matches when only the family is named.
FAMILY_RULES: tuple[tuple[str, str, str], ...] = (
    ("siemens", r"^6es75\d\d|cpu15\d\d|s715\d\d", "s71500"),
    ("siemens", r"^6es721\d|cpu12\d\d|s712\d\d", "s71200"),
    ("siemens", r"^6es731\d|cpu31\d|s73\d\d", "s7300"),
    ("siemens", r"^6es741\d|cpu41\d|s74\d\d", "s7400"),
    ("siemens", r"^6es7288|s7200smart", "s7200smart"),
    ("rockwell", r"^1756|controllogix", "controllogix"),
    ("rockwell", r"^176[89]|compactlogix", "compactlogix"),
    ("rockwell", r"^1756l7\d|guardlogix", "guardlogix"),
    ("hikvision", r"^ds2cd", "ds2cd"),
    ("hikvision", r"^ds2de|^ds2df", "ds2df"),
    ("hikvision", r"^ds7\d|^ds9\d", "nvr"),
    ("hikvision", r"^dsk1t", "dsk1t"),
    ("axis", r"^a1\d\d\d", "a1000"),
)


@lru_cache(maxsize=65536)
def families(vendor: str | None, model: str | None) -> frozenset[str]:
    """The family keys (`FAMILY_RULES`) a vendor's model belongs to."""
    vk, mk = vendor_key(vendor), model_key(model)
    return frozenset(fam for v, pat, fam in FAMILY_RULES if v == vk and re.search(pat, mk))
