"""Template context shared by every page: navigation allowed by the user's role, who is signed in."""

from __future__ import annotations

import functools

from linewatch.core.choices import Role
from linewatch.core.permissions import Cap, can, capabilities, roles

# (url name, label, capability needed to see it anywhere)
NAV_ITEMS = (
    ("home", "Home", Cap.VIEW_SITES),
    ("alerts", "Alerts", Cap.VIEW_ALERTS),
    ("cases", "Cases", Cap.VIEW_ALERTS),
    ("incidents", "Queue", Cap.VIEW_ALERTS),
    ("sites", "Sites", Cap.VIEW_SITES),
    ("zones", "Zones & conduits", Cap.VIEW_PLANT),
    ("assets", "Assets", Cap.VIEW_SITES),
    ("discovered", "Discovered", Cap.VIEW_PLANT),
    ("lines", "Lines", Cap.VIEW_PLANT),
    ("ownership", "Teams & ownership", Cap.VIEW_PLANT),
)

# Detail pages highlight the navigation entry of their list.
SECTION_OF = {"site": "sites", "site_zones": "zones", "asset": "assets", "line": "lines", "alert": "alerts",
              "case": "cases", "discovered_device": "discovered"}


@functools.cache
def _nav_items() -> tuple:
    """The core entries, then each domain's own (linewatch.web.domains)."""
    from linewatch.web.domains import modules

    items = list(NAV_ITEMS)
    for module in modules("urls"):
        items.extend(getattr(module, "NAV", ()))
        SECTION_OF.update(getattr(module, "SECTION_OF", {}))
    return tuple(items)


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    caps = capabilities(user)
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match and match.namespace == "web" else ""
    items = _nav_items()
    current = SECTION_OF.get(current, current)
    labels = dict(Role.choices)
    return {
        "nav": [
            {"name": f"web:{name}", "label": label, "active": name == current}
            for name, label, cap in items if cap in caps
        ],
        "user_roles": [labels.get(r, r) for r in sorted(roles(user))],
        "show_admin": user.is_staff and can(user, Cap.MANAGE_USERS),
        # counted only when a template asks (the home page's strip)
        "alert_strip": functools.partial(_alert_strip, user),
    }


def _alert_strip(user) -> dict:
    from linewatch.detect.cases import open_alerts_by_severity

    return open_alerts_by_severity(user)
