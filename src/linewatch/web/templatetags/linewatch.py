"""Template filters for figures: money, hours, shares; and labels of the plant vocabularies."""

from __future__ import annotations

from decimal import Decimal

from django import template

from linewatch.core import choices

register = template.Library()

_LABELS: dict[str, dict] = {
    "kind": dict(choices.AssetKind.choices),
    "site_kind": dict(choices.SiteKind.choices),
    "domain": dict(choices.Domain.choices),
    "criticality": dict(choices.Criticality.choices),
    "purdue": dict(choices.PurdueLevel.choices),
    "role": {**dict(choices.Role.choices), **dict(choices.RaciRole.choices)},
    "raci": dict(choices.RaciRole.choices),
    "scope": dict(choices.OwnershipScope.choices),
    "team_kind": dict(choices.TeamKind.choices),
    "door_kind": dict(choices.DoorKind.choices),
    "direction": dict(choices.ConduitDirection.choices),
    "effect": dict(choices.DependencyEffect.choices),
    "line_kind": dict(choices.LineKind.choices),
    "restricted": {int(k): v for k, v in choices.RestrictedLevel.choices},
    "status": {"stopped": "Stopped", "degraded": "Degraded", "redundancy_lost": "Redundancy lost", "ok": "OK"},
}


@register.filter
def label(value, vocabulary: str) -> str:
    """The human label of a choice value: {{ asset.kind|label:"kind" }}."""
    return _LABELS.get(vocabulary, {}).get(value, value)


@register.filter
def money(value) -> str:
    """Whole units with thousands separators: 42000 -> 42,000."""
    if value in (None, ""):
        return "—"
    try:
        return f"{Decimal(str(value)):,.0f}"
    except (ArithmeticError, ValueError):
        return str(value)


@register.filter
def number(value, places: int = 1) -> str:
    """A figure with at most `places` decimals, trailing zeros dropped: 12.0 -> 12."""
    if value in (None, ""):
        return "—"
    text = f"{float(value):,.{int(places)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def hours(value) -> str:
    if value in (None, ""):
        return "—"
    return f"{number(value)} h"


@register.filter
def percent(value) -> str:
    if value in (None, ""):
        return "—"
    return f"{float(value) * 100:.0f} %"


@register.filter
def share(value, total) -> float:
    """value / total as a percentage for bar widths (0–100)."""
    try:
        total = float(total)
        return round(100 * float(value) / total, 1) if total else 0.0
    except (TypeError, ValueError):
        return 0.0


@register.filter
def get(mapping, key):
    """Dictionary lookup with a variable key."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
