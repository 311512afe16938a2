"""What a detector reports: plain data, no Django, so engines and their tests stand alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from linewatch.events.schema import Event


@dataclass(frozen=True)
class Detection:
    """What a rule said: the engine's match, independent of how the rule was written."""

    rule_id: str
    title: str
    level: str = "medium"
    description: str = ""
    tags: tuple[str, ...] = ()
    confidence: int = 80
    events: Sequence[Event] = field(default_factory=tuple)
