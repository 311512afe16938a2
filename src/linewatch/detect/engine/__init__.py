"""Sigma detection engine: plain Python, no Django.

Layers, each a module that can be tested alone (see docs/detection.md):
parse (`rules`) → transform (`pipeline`: field mapping, placeholders) → compile (`compile`, with
`modifiers` and `strings` for values) → evaluate (`ruleset`, with `logsource` routing and the
`prefilter`). `flatten` turns Windows evtx JSON into the flat events the engine reads.
"""

from .flatten import flatten, iter_json_objects
from .logsource import LogsourceRow, Router, windows_router
from .pipeline import FieldMapping, Placeholders, identity, mapping
from .rules import DetectionRule, LoadedFilter, Match, RuleError
from .ruleset import RuleSet

__all__ = [
    "DetectionRule",
    "FieldMapping",
    "LoadedFilter",
    "LogsourceRow",
    "Match",
    "Placeholders",
    "Router",
    "RuleError",
    "RuleSet",
    "flatten",
    "identity",
    "iter_json_objects",
    "mapping",
    "windows_router",
]
