"""Managing the watchlist: who may read and change it, checked changes, and the hits.

An entry belongs to an organisation. Without a site it applies at every one of its sites; with
one, only there (a plant's own ban). Reading an organisation-wide entry needs VIEW_PEOPLE at one of
the organisation's sites; a site's entry needs VIEW_PEOPLE at that site (another plant's own
entries answer 404). Adding an organisation-wide entry needs EDIT_PEOPLE at one of the sites: the
lead who turns a trespasser away lists them at once, and an entry only makes reception stricter.
Editing, retiring and reinstating it need EDIT_PEOPLE at every site (as offboarding does): they can
weaken the check at sites the user does not answer for. A site's entry is added and changed with
EDIT_PEOPLE at that site. Changes go through the model, so the audit trail records each with its
before and after.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils import timezone

from linewatch.core.models import Organisation, Site
from linewatch.core.permissions import Cap, can, visible_sites
from linewatch.errors import InputError
from linewatch.workforce.engine.watchlist import fold
from linewatch.workforce.models import Visit, WatchlistEntry

HITS_LIMIT = 500
FIELDS = ("name", "reason", "company", "aliases", "source", "expires_on", "banned", "active")


def organisations(user, cap: Cap) -> QuerySet[Organisation]:
    """Organisations with at least one site where the user holds `cap`."""
    return Organisation.objects.filter(sites__in=visible_sites(user, cap)).distinct().order_by("slug")


def entries(user) -> QuerySet[WatchlistEntry]:
    """The entries the user may read: organisation-wide ones of their organisations, and the own
    entries of the sites where they hold VIEW_PEOPLE."""
    return WatchlistEntry.objects.filter(
        Q(site__isnull=True, organisation__in=organisations(user, Cap.VIEW_PEOPLE))
        | Q(site__in=visible_sites(user, Cap.VIEW_PEOPLE))).select_related("organisation", "site")


def may_add(user, organisation: Organisation) -> bool:
    """Whether the user may add an organisation-wide entry (a site's own: EDIT_PEOPLE there)."""
    return organisations(user, Cap.EDIT_PEOPLE).filter(pk=organisation.pk).exists()


def may_change(user, entry: WatchlistEntry) -> bool:
    """A site's entry: EDIT_PEOPLE there; an organisation-wide one: EDIT_PEOPLE at every site."""
    if entry.site_id:
        return can(user, Cap.EDIT_PEOPLE, entry.site)
    sites = list(Site.objects.filter(organisation_id=entry.organisation_id))
    return bool(sites) and all(can(user, Cap.EDIT_PEOPLE, s) for s in sites)


def sites_to_add(user) -> QuerySet[Site]:
    """The sites the user may scope a new entry to."""
    return visible_sites(user, Cap.EDIT_PEOPLE).select_related("organisation").order_by("organisation__slug", "slug")


def site_to_add(user, slug: str, organisation: Organisation | None = None) -> Site:
    """The site named by `slug`, where the user may add entries; an unknown site is refused with
    the ones they may choose (a site they cannot see is unknown to them)."""
    slug = slug.strip()
    allowed = sites_to_add(user)
    if organisation is not None:
        allowed = allowed.filter(organisation=organisation)
    found = allowed.filter(slug=slug).first()
    if found is not None:
        return found
    seen = visible_sites(user, Cap.VIEW_SITES).filter(slug=slug).first()
    if seen is not None and organisation is not None and seen.organisation_id != organisation.pk:
        raise InputError("watchlist", "site", f"site {slug!r} is not a site of {organisation.slug}")
    if seen is not None:
        raise InputError("watchlist", "site", f"you may not add watchlist entries for site {slug!r}")
    choices = ", ".join(allowed.values_list("slug", flat=True)) or "none"
    raise InputError("watchlist", "site", f"unknown site {slug!r}: one of {choices}, or none for every site")


def scope_to_add(user, organisation: str = "", site: str = "") -> tuple[Organisation, Site | None]:
    """Where a new entry goes: the site named (and its organisation), else the organisation named,
    else the user's only organisation, organisation-wide."""
    if site and site.strip():
        org = organisation_to_add(user, organisation) if organisation else None
        found = site_to_add(user, site, org)
        return found.organisation, found
    return organisation_to_add(user, organisation), None


def organisation_to_add(user, slug: str = "") -> Organisation:
    """The organisation a new entry goes to: the one named, or the user's only one."""
    allowed = organisations(user, Cap.EDIT_PEOPLE)
    if slug:
        found = allowed.filter(slug=slug).first()
        if found is None:
            raise InputError("watchlist", "organisation", f"you may not add entries for {slug!r}")
        return found
    found = list(allowed[:2])
    if len(found) != 1:
        raise InputError("watchlist", "organisation", "name the organisation: "
                         + ", ".join(allowed.values_list("slug", flat=True)))
    return found[0]


def today(site: Site | None) -> dt.date:
    """Today on the site's clock (organisation-wide: UTC), the day an expiry is judged against."""
    return timezone.now().astimezone(zoneinfo.ZoneInfo(site.timezone) if site else dt.UTC).date()


def _aliases(value: str | Iterable[str], name: str) -> list[str]:
    """One alias per line, blank and repeated spellings (and the name's own) dropped."""
    lines = value.splitlines() if isinstance(value, str) else list(value)
    seen, kept = {fold(name)}, []
    for alias in (str(a).strip() for a in lines):
        if alias and fold(alias) not in seen:
            seen.add(fold(alias))
            kept.append(alias)
    return kept


def _date(value, problems: list[str]) -> dt.date | None:
    """An expiry: a date, an ISO 8601 day (YYYY-MM-DD), or empty for none."""
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append(f"the expiry {text!r} is not a date (YYYY-MM-DD)")
        return None


def _check(organisation: Organisation, site: Site | None, values: dict,
           entry: WatchlistEntry | None = None) -> dict:
    """The cleaned fields, or one InputError naming every problem."""
    name = str(values.get("name", "")).strip()
    reason = str(values.get("reason", "")).strip()
    company = str(values.get("company", "")).strip()
    source = str(values.get("source", "") or "").strip()
    aliases = _aliases(values.get("aliases", ""), name)
    problems: list[str] = []
    expires_on = _date(values.get("expires_on"), problems)
    if not fold(name):
        problems.append("the name is missing")
    elif len(name) > 200:
        problems.append("the name is longer than 200 characters")
    if not reason:
        problems.append("the reason is missing: say why, so security can judge a match")
    elif len(reason) > 300:
        problems.append("the reason is longer than 300 characters")
    if len(company) > 200:
        problems.append("the company is longer than 200 characters")
    if len(source) > 200:
        problems.append("the source is longer than 200 characters")
    if any(len(a) > 200 for a in aliases):
        problems.append("an alias is longer than 200 characters")
    if site is not None and site.organisation_id != organisation.pk:
        problems.append(f"the site {site.slug} is not of {organisation.slug}")
    changed_expiry = entry is None or expires_on != entry.expires_on
    if expires_on and changed_expiry and expires_on < today(site):
        problems.append(f"the expiry {expires_on.isoformat()} is in the past"
                        + ("" if entry is None else ": retire the entry instead"))
    if fold(name) and values.get("active", True):
        problems += _twins(organisation, site, name, entry)
    if problems:
        raise InputError("watchlist", name or "?", "; ".join(problems))
    return {"name": name, "reason": reason, "company": company, "aliases": "\n".join(aliases), "source": source,
            "expires_on": expires_on, "banned": bool(values.get("banned", False)),
            "active": bool(values.get("active", True))}


def _twins(organisation: Organisation, site: Site | None, name: str, entry: WatchlistEntry | None) -> list[str]:
    """An active, unexpired entry of the same name that already covers the new one's scope: an
    organisation-wide one, or one of the same site. Another site's own entry is no twin (and is
    not the user's to learn about)."""
    scope = Q(site__isnull=True) | Q(site=site) if site else Q(site__isnull=True)
    twins = WatchlistEntry.objects.filter(scope, organisation=organisation, active=True).exclude(
        pk=entry.pk if entry else None).select_related("site")
    same = next((t for t in twins if fold(t.name) == fold(name) and not t.expired()), None)
    return [] if same is None else [f"{same.name} is already on the watchlist (entry {same.pk})"]


def add(organisation: Organisation, values: dict, by: str, site: Site | None = None) -> WatchlistEntry:
    """A new active entry (organisation-wide, or only at `site`); checked at the next registration
    or sign-in."""
    fields = _check(organisation, site, {**values, "active": True})
    return WatchlistEntry.objects.create(organisation=organisation, site=site, added_by=by[:150], **fields)


def change(entry: WatchlistEntry, values: dict, user=None) -> WatchlistEntry:
    """Change the given fields (the others stay); `active: False` retires the entry, True reinstates it.
    `site` moves it: a slug (where `user` may add entries) or empty for every site of the organisation;
    the caller has checked that the user may change the entry where it is now (may_change)."""
    site = entry.site
    if values.get("site") is not None:
        wanted = str(values["site"]).strip()
        if not wanted:
            site = None
            if user is not None and not may_add(user, entry.organisation):
                raise InputError("watchlist", entry.name, f"you may not list people for {entry.organisation.slug}")
        elif site is None or wanted != site.slug:
            site = site_to_add(user, wanted, entry.organisation) if user is not None else Site.objects.filter(
                organisation=entry.organisation, slug=wanted).first()
            if site is None:
                raise InputError("watchlist", "site", f"unknown site {wanted!r}")
    current = {key: getattr(entry, key) for key in FIELDS}
    given = {k: v for k, v in values.items() if k in FIELDS and (v is not None or k == "expires_on")}  # null: no expiry
    fields = _check(entry.organisation, site, {**current, **given}, entry)
    fields["site"] = site
    for key, value in fields.items():
        setattr(entry, key, value)
    entry.save(update_fields=list(fields))
    return entry


def hits(sites: QuerySet[Site], entry: WatchlistEntry | None = None) -> list[dict]:
    """Registrations and sign-ins at `sites` that matched the watchlist (or one entry), newest first."""
    rows = []
    found = (Visit.objects.filter(site__in=sites).exclude(watchlist_hits=[]).select_related("site", "visitor", "host")
             .order_by("-registered_at", "-expected_start"))
    for visit in found[:HITS_LIMIT]:
        for hit in visit.watchlist_hits:
            if entry is None or str(hit.get("entry")) == str(entry.pk):
                rows.append({"visit": visit, "at": hit.get("at", "registration"), **hit})
    return rows
