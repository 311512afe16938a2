"""Roles, what each may do, and which sites each may see.

One table decides every page and endpoint: `ROLE_CAPABILITIES`. Views and API operations ask
`can(user, capability)` for the action and `visible_sites(user)` to scope every query, so an
object at a site outside the user's scope is simply not found (404), never shown.
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import QuerySet

from linewatch.core.choices import Role
from linewatch.core.models import Site


class Cap(StrEnum):
    """Capabilities: what a role may do, at the sites it sees."""

    VIEW_SITES = "view_sites"  # site list, areas, doors, physical-security devices
    VIEW_PLANT = "view_plant"  # zones, conduits, every asset, lines, consequence, ownership
    EDIT_PLANT = "edit_plant"  # change the plant model, import site files
    VIEW_PEOPLE = "view_people"  # people, affiliations, work orders, authorisations
    EDIT_PEOPLE = "edit_people"
    VIEW_AUDIT = "view_audit"
    EXPORT = "export"  # export site files
    MANAGE_USERS = "manage_users"  # users, roles, tokens, Django admin
    INGEST_EVENTS = "ingest_events"  # send events (sensors, forwarders)
    VIEW_ALERTS = "view_alerts"  # alerts and cases (guards: only those about physical-security devices)
    HANDLE_ALERTS = "handle_alerts"  # acknowledge, assign, close and comment on alerts
    SYNC_NODE = "sync_node"  # a plant node forwards its records to headquarters and fetches what it missed
    PATROL = "patrol"  # walk tours: scan checkpoints, attach photos and notes, file guard incident reports


ROLE_CAPABILITIES: dict[str, frozenset[Cap]] = {
    Role.ADMIN: frozenset(Cap),
    Role.SECURITY_ANALYST: frozenset(
        {Cap.VIEW_SITES, Cap.VIEW_PLANT, Cap.VIEW_PEOPLE, Cap.VIEW_AUDIT, Cap.EXPORT, Cap.VIEW_ALERTS,
         Cap.HANDLE_ALERTS}
    ),
    Role.SITE_SECURITY_LEAD: frozenset(
        {Cap.VIEW_SITES, Cap.VIEW_PLANT, Cap.EDIT_PLANT, Cap.VIEW_PEOPLE, Cap.EDIT_PEOPLE, Cap.VIEW_AUDIT,
         Cap.EXPORT, Cap.VIEW_ALERTS, Cap.HANDLE_ALERTS}
    ),
    Role.OT_ENGINEER: frozenset(
        {Cap.VIEW_SITES, Cap.VIEW_PLANT, Cap.EDIT_PLANT, Cap.EXPORT, Cap.VIEW_ALERTS, Cap.HANDLE_ALERTS}
    ),
    Role.AUDITOR: frozenset(
        {Cap.VIEW_SITES, Cap.VIEW_PLANT, Cap.VIEW_PEOPLE, Cap.VIEW_AUDIT, Cap.EXPORT, Cap.VIEW_ALERTS}
    ),
    Role.GUARD: frozenset({Cap.VIEW_SITES, Cap.VIEW_ALERTS, Cap.PATROL}),  # alerts: physical-security devices only
    Role.SENSOR: frozenset({Cap.INGEST_EVENTS}),
    Role.NODE: frozenset({Cap.SYNC_NODE}),
}

# Roles that see every site whatever their assignment says.
ALL_SITE_ROLES = frozenset({Role.ADMIN, Role.SECURITY_ANALYST})


def _assignments(user) -> list:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_linewatch_roles", None)
    if cached is None:
        cached = list(user.linewatch_roles.prefetch_related("sites"))
        user._linewatch_roles = cached
    return cached


def roles(user) -> set[str]:
    found = {a.role for a in _assignments(user)}
    if getattr(user, "is_superuser", False) and user.is_active:
        found.add(Role.ADMIN)
    return found


def capabilities(user, site: Site | int | None = None) -> frozenset[Cap]:
    """What the user may do; at one site when `site` is given (roles scoped elsewhere don't count)."""
    site_id = site.pk if isinstance(site, Site) else site
    caps: set[Cap] = set()
    if getattr(user, "is_superuser", False) and user.is_active:
        return frozenset(Cap)
    for assignment in _assignments(user):
        everywhere = assignment.all_sites or assignment.role in ALL_SITE_ROLES
        if site_id is None or everywhere or any(s.pk == site_id for s in assignment.sites.all()):
            caps |= ROLE_CAPABILITIES[assignment.role]
    return frozenset(caps)


def can(user, cap: Cap, site: Site | int | None = None) -> bool:
    return cap in capabilities(user, site)


def visible_sites(user, cap: Cap = Cap.VIEW_SITES) -> QuerySet[Site]:
    """The sites where the user holds `cap`: the scope for every list and lookup."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return Site.objects.all()
    ids: set[int] = set()
    for assignment in _assignments(user):
        if cap not in ROLE_CAPABILITIES[assignment.role]:
            continue
        if assignment.all_sites or assignment.role in ALL_SITE_ROLES:
            return Site.objects.all()
        ids.update(s.pk for s in assignment.sites.all())
    return Site.objects.filter(pk__in=ids)
