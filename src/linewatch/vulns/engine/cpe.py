"""CPE 2.3 formatted strings (``cpe:2.3:part:vendor:product:version:update:...``) split into fields.

Backslash escapes (``ds-2cd2412f-i\\(w\\)_firmware``) are kept out of the way by splitting on unescaped
colons only; the values are returned unescaped. ``*`` is ANY and ``-`` is NA, as in the specification.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

FIELDS = ("part", "vendor", "product", "version", "update", "edition", "language", "sw_edition",
          "target_sw", "target_hw", "other")
_SPLIT = re.compile(r"(?<!\\):")


@dataclass(frozen=True)
class Cpe:
    part: str
    vendor: str
    product: str
    version: str = "*"
    update: str = "*"
    edition: str = "*"
    language: str = "*"
    sw_edition: str = "*"
    target_sw: str = "*"
    target_hw: str = "*"
    other: str = "*"

    @property
    def device_product(self) -> str:
        """The product as a device model: NVD names device firmware ``<model>_firmware``."""
        p = self.product
        for suffix in ("_firmware", "-firmware", "_fw"):
            if p.endswith(suffix):
                return p[: -len(suffix)]
        return p


@lru_cache(maxsize=65536)
def parse_cpe(text: str) -> Cpe:
    """Parse a CPE 2.3 string; ValueError when it is not one."""
    if not text.startswith("cpe:2.3:"):
        raise ValueError(f"not a CPE 2.3 string: {text!r}")
    values = _SPLIT.split(text[len("cpe:2.3:"):])
    if len(values) != len(FIELDS) or values[0] not in ("a", "o", "h", "*"):
        raise ValueError(f"CPE 2.3 string needs 11 fields after 'cpe:2.3:' with part a/o/h: {text!r}")
    return Cpe(*(re.sub(r"\\(.)", r"\1", v) for v in values))
