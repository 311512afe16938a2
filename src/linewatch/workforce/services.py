"""Workforce operations the UI, API and CLI all call: the detection directory, onboarding rules,
offboarding with its revocation report, the on-site roster, access reviews, expiring and
orphaned access, and a person's timeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from linewatch.core import audit
from linewatch.core.choices import Affiliation, RestrictedLevel
from linewatch.core.models import Area, Organisation, Person, Site, SiteAffiliation
from linewatch.errors import InputError
from linewatch.events.schema import Event, EventClass
from linewatch.workforce import choices
from linewatch.workforce.engine import records as r
from linewatch.workforce.engine.calendar import PlantCalendar as CalendarRecord
from linewatch.workforce.engine.roster import RosterEntry, build_roster
from linewatch.workforce.engine.schedule import AccessWindow
from linewatch.workforce.models import (
    Authorisation,
    Credential,
    PersonState,
    PlantCalendar,
    PlantHoliday,
    ReviewCampaign,
    ReviewItem,
    RevocationReport,
    Training,
    Visit,
    WatchlistEntry,
    WorkOrder,
    ZoneOwner,
    ZoneRequirement,
)

ROSTER_HOURS = 24
EXPIRING_DAYS = 14
REVOCATION_SLA = dt.timedelta(hours=24)  # NERC CIP-004 R5: access removed within 24 h of termination
OVERSTAY_GRACE = dt.timedelta(minutes=30)


def _ms(value: dt.datetime | dt.date | None, end_of_day: bool = False) -> int | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time.max if end_of_day else dt.time(), dt.UTC)
    return int(value.timestamp() * 1000)


# ---------------------------------------------------------------------- the detection directory

def directory() -> r.Directory:
    """Every record the detections consult, rebuilt when the model changes (audit trail id)."""
    from linewatch.core.services import cached

    return cached("workforce-directory", build_directory)


def calendars() -> dict[int, CalendarRecord]:
    extra: dict[int, dict[dt.date, str]] = {}
    removed: dict[int, set[dt.date]] = {}
    for h in PlantHoliday.objects.all():
        if h.closed:
            extra.setdefault(h.site_id, {})[h.date] = h.name
        else:
            removed.setdefault(h.site_id, set()).add(h.date)
    found = {c.site_id: CalendarRecord(c.country, c.subdivision, extra.get(c.site_id, {}),
                                       frozenset(removed.get(c.site_id, ())))
             for c in PlantCalendar.objects.all()}
    for site_id, days in extra.items():
        found.setdefault(site_id, CalendarRecord("", "", days))
    return found


def build_directory() -> r.Directory:
    sites = list(Site.objects.all())
    by_id = {s.pk: s for s in sites}
    cal = calendars()
    states = {s.person_id: s for s in PersonState.objects.all()}
    kinds: dict[int, str] = {}
    sponsors: dict[int, str] = {}
    for a in SiteAffiliation.objects.select_related("sponsor"):
        if kinds.get(a.person_id, "employee") == "employee":
            kinds[a.person_id] = a.kind
        if a.sponsor:
            sponsors[a.person_id] = a.sponsor.key
    people = [r.PersonRecord(p.key, p.name, kinds.get(p.pk, "employee"),
                             states[p.pk].status if p.pk in states else "active",
                             _ms(states[p.pk].changed_at) if p.pk in states else None, sponsors.get(p.pk))
              for p in Person.objects.all()]
    creds = [r.CredentialRecord(str(c.pk), c.kind, c.identifier, c.person.key if c.person else None, c.status,
                                c.issue_code, str(c.replaces_id) if c.replaces_id else None, _ms(c.valid_from),
                                _ms(c.valid_to), _ms(c.status_changed_at), c.is_decoy, c.site.slug if c.site else "",
                                _ms(c.last_used_at))
             for c in Credential.objects.select_related("person", "site")]
    grants = []
    for g in Authorisation.objects.select_related("person", "area", "work_order", "granted_by"):
        site = by_id[g.site_id]
        kind = kinds.get(g.person_id, "employee")
        window = AccessWindow(_ms(g.valid_from), _ms(g.valid_to), g.schedule, site.timezone,
                              cal.get(site.pk, CalendarRecord()), holidays_open=kind == Affiliation.GUARD
                              or not g.schedule)
        grants.append(r.AuthorisationRecord(str(g.pk), g.person.key, site.slug, g.area.slug, window,
                                            g.work_order.key if g.work_order else None,
                                            g.granted_by.key if g.granted_by else "", g.reason))
    orders = []
    for w in WorkOrder.objects.select_related("site", "assignee", "line").prefetch_related(
            "assets", "line__dependencies__members"):
        names = {a.name for a in w.assets.all()}
        if w.line:
            names |= {m.name for dep in w.line.dependencies.all() for m in dep.members.all()}
        orders.append(r.WorkOrderRecord(w.key, w.site.slug, w.status, w.assignee.key if w.assignee else None,
                                        frozenset(names), _ms(w.starts_at), _ms(w.ends_at)))
    trainings = [r.TrainingRecord(t.person.key, t.kind, _ms(t.completed_on), _ms(t.expires_on, end_of_day=True))
                 for t in Training.objects.select_related("person")]
    visits = [r.VisitRecord(str(v.pk), v.visitor.key, v.site.slug, v.host.key if v.host else None,
                            v.escort.key if v.escort else None, v.escort_required, _ms(v.expected_start),
                            _ms(v.expected_end), _ms(v.checked_out_at))
              for v in Visit.objects.select_related("visitor", "host", "escort", "site")]
    requires: dict[int, set[str]] = {}
    for z in ZoneRequirement.objects.all():
        requires.setdefault(z.area_id, set()).add(z.kind)
    owners: dict[int, set[str]] = {}
    for o in ZoneOwner.objects.select_related("person"):
        owners.setdefault(o.area_id, set()).add(o.person.key)
    areas = [r.AreaRecord(by_id[a.site_id].slug, a.slug, a.restricted_level >= RestrictedLevel.RESTRICTED,
                          frozenset(requires.get(a.pk, ())), frozenset(owners.get(a.pk, ())))
             for a in Area.objects.all()]
    from linewatch.core.choices import ASSET_KIND_DOMAIN, Domain
    from linewatch.core.models import Asset

    # the jump host is the way in, not a target: sessions through it are judged by where they land
    ot_kinds = [k for k, d in ASSET_KIND_DOMAIN.items() if d == Domain.OT and k != "jump_host"]
    ot = Asset.objects.filter(kind__in=ot_kinds).values_list("name", flat=True)
    return r.Directory(people=people, credentials=creds, authorisations=grants, work_orders=orders,
                       trainings=trainings, visits=visits, areas=areas,
                       sites=[r.SiteRecord(s.slug, s.timezone, s.latitude, s.longitude) for s in sites],
                       ot_assets=ot, watchlist=watchlist_records())


def watchlist_records(organisation_id: int | None = None) -> list:
    """The active watchlist as engine records (all organisations, or one), each with the sites it
    applies at and its last day: engine.watchlist.in_force picks those of a visit's site and day."""
    from linewatch.workforce.engine.watchlist import WatchlistRecord

    entries = WatchlistEntry.objects.filter(active=True).select_related("site")
    if organisation_id is not None:
        entries = entries.filter(organisation_id=organisation_id)
    slugs: dict[int, set[str]] = {}
    for org, slug in Site.objects.filter(organisation__in=entries.values("organisation")).values_list(
            "organisation", "slug"):
        slugs.setdefault(org, set()).add(slug)
    return [WatchlistRecord(str(w.pk), w.name, tuple(a.strip() for a in w.aliases.splitlines() if a.strip()),
                            w.company, w.reason, "critical" if w.banned else "high",
                            # {""}: an organisation without sites reaches nobody (empty would mean everywhere)
                            frozenset({w.site.slug} if w.site_id else slugs.get(w.organisation_id) or {""}),
                            w.expires_on)
            for w in entries]


# ---------------------------------------------------------------------- onboarding


def onboarding_problems(kind: str, sponsor: Person | None, valid_to: dt.date | None) -> list[str]:
    """Why an affiliation may not be granted: non-employees need a sponsor and an expiry."""
    problems = []
    if kind != Affiliation.EMPLOYEE:
        if sponsor is None:
            problems.append(f"a {kind} needs a sponsor who answers for them")
        if valid_to is None:
            problems.append(f"a {kind} needs an expiry: no open-ended access for non-employees")
    if sponsor is not None:
        state = PersonState.objects.filter(person=sponsor).first()
        if state and state.status != choices.PersonStatus.ACTIVE:
            problems.append(f"the sponsor {sponsor.key} is {state.status}")
    return problems


@transaction.atomic
def onboard(person: Person, site: Site, kind: str, sponsor: Person | None = None,
            valid_from: dt.date | None = None, valid_to: dt.date | None = None) -> SiteAffiliation:
    problems = onboarding_problems(kind, sponsor, valid_to)
    if problems:
        raise InputError("onboarding", person.key, "; ".join(problems))
    affiliation, _ = SiteAffiliation.objects.update_or_create(person=person, site=site, defaults={
        "kind": kind, "sponsor": sponsor, "valid_from": valid_from, "valid_to": valid_to})
    PersonState.objects.update_or_create(person=person, defaults={"status": choices.PersonStatus.ACTIVE})
    return affiliation


# ---------------------------------------------------------------------- offboarding


def find_person(key: str, organisation: Organisation | None = None) -> Person:
    people = Person.objects.filter(key=key)
    if organisation is not None:
        people = people.filter(organisation=organisation)
    found = list(people[:2])
    if not found:
        raise InputError("person", key, "no such person")
    if len(found) > 1:
        raise InputError("person", key, "several organisations have this person key")
    return found[0]


def _live_credentials(person: Person) -> QuerySet[Credential]:
    return Credential.objects.filter(person=person).exclude(status__in=(
        choices.CredentialStatus.REVOKED, choices.CredentialStatus.REPLACED, choices.CredentialStatus.LOST,
        choices.CredentialStatus.STOLEN))


def _live_authorisations(person: Person, now: dt.datetime) -> QuerySet[Authorisation]:
    return Authorisation.objects.filter(person=person, revoked_at__isnull=True).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=now))


def offboard(person: Person, by: str, reason: str = "", now: dt.datetime | None = None) -> RevocationReport:
    """Revoke every credential and authorisation of the person at every site, end their
    affiliations, and record a report whose proof is a fresh query finding nothing left."""
    now = now or timezone.now()
    items: list[dict[str, Any]] = []
    with transaction.atomic():
        for cred in _live_credentials(person).select_related("site"):
            before = cred.status
            cred.status, cred.status_changed_at, cred.status_reason = "revoked", now, f"offboarded: {reason}"[:300]
            if cred.valid_to is None or cred.valid_to > now:
                cred.valid_to = now
            cred.save(update_fields=["status", "status_changed_at", "status_reason", "valid_to"])
            items.append({"what": "credential", "id": cred.pk, "name": str(cred), "system": cred.system,
                          "site": cred.site.slug if cred.site else "all sites", "before": before,
                          "after": "revoked", "at": now.isoformat(), "by": by})
        for grant in _live_authorisations(person, now).select_related("site", "area"):
            before = grant.valid_to.isoformat() if grant.valid_to else "open-ended"
            grant.valid_to, grant.revoked_at, grant.revoked_by = now, now, by[:150]
            grant.save(update_fields=["valid_to", "revoked_at", "revoked_by"])
            items.append({"what": "authorisation", "id": grant.pk, "name": f"{grant.area.name}",
                          "site": grant.site.slug, "before": f"valid to {before}", "after": "revoked",
                          "at": now.isoformat(), "by": by})
        today = timezone.localdate(now)
        for aff in SiteAffiliation.objects.filter(person=person).select_related("site"):
            if aff.valid_to is None or aff.valid_to > today:
                before = aff.valid_to.isoformat() if aff.valid_to else "open-ended"
                aff.valid_to = today
                aff.save(update_fields=["valid_to"])
                items.append({"what": "affiliation", "id": aff.pk, "name": aff.get_kind_display(),
                              "site": aff.site.slug, "before": f"valid to {before}", "after": f"ended {today}",
                              "at": now.isoformat(), "by": by})
        PersonState.objects.update_or_create(person=person, defaults={
            "status": choices.PersonStatus.OFFBOARDED, "changed_at": now, "changed_by": by[:150],
            "reason": reason[:300]})
        report = RevocationReport.objects.create(person=person, created_at=now, created_by=by[:150],
                                                 reason=reason[:300], items=items)
    proof = prove(person, now)
    report.proof, report.proven = proof, proof["left"] == 0
    report.save(update_fields=["proof", "proven"])
    return report


def prove(person: Person, at: dt.datetime) -> dict[str, Any]:
    """Re-query, outside the revoking transaction, whatever could still let the person in."""
    credentials = [str(c) for c in _live_credentials(person)]
    grants = [f"{g.site.slug}/{g.area.slug}" for g in _live_authorisations(person, at).select_related("site", "area")]
    state = PersonState.objects.filter(person=person).values_list("status", flat=True).first()
    return {"checked_at": timezone.now().isoformat(), "live_credentials": credentials, "live_authorisations": grants,
            "status": state, "left": len(credentials) + len(grants) + (state != choices.PersonStatus.OFFBOARDED)}


# ---------------------------------------------------------------------- roster


def _resolver(d: r.Directory):
    def resolve(event: Event) -> str | None:
        ident = event.attrs.get("credential.uid")
        if ident:
            cred = d.credential(str(ident))
            if cred is not None and cred.person:
                return cred.person
        name = str(event.attrs.get("actor.user.name") or event.attrs.get("actor.user.uid") or "")
        if name in d.people:
            return name
        if name.lower() in d.by_name:  # PACS exports name the cardholder
            return d.by_name[name.lower()]
        return f"card {ident}" if ident else (name or None)
    return resolve


def roster(site: Site, now: dt.datetime | None = None, hours: int = ROSTER_HOURS) -> list[RosterEntry]:
    """Who is on the site now (from the last `hours` of physical-access events)."""
    from linewatch.events.models import StoredEvent

    now = now or timezone.now()
    bodies = StoredEvent.objects.filter(site_slug=site.slug, class_uid=EventClass.PHYSICAL_ACCESS,
                                        time__gte=now - dt.timedelta(hours=hours), time__lte=now).values_list(
        "body", flat=True)
    events = [msgspec.convert(b, Event) for b in bodies]
    return build_roster(events, _resolver(directory()), int(now.timestamp() * 1000))


def person_timeline(person: Person, sites: Iterable[Site], limit: int = 100) -> list[Event]:
    """Recent physical and logical events about the person at the given sites, newest first."""
    from linewatch.events.models import StoredEvent

    names = {person.key, person.name} | set(Credential.objects.filter(person=person).values_list(
        "identifier", flat=True))
    slugs = [s.slug for s in sites]
    found = []
    rows = StoredEvent.objects.filter(site_slug__in=slugs, class_uid__in=(
        EventClass.PHYSICAL_ACCESS, EventClass.AUTHENTICATION, EventClass.AUTHORIZE_SESSION)).order_by(
        "-time").values_list("body", flat=True)[:5000]
    for body in rows:
        attrs = body.get("attrs", {})
        if any(attrs.get(p) in names for p in ("credential.uid", "actor.user.name", "user.name", "actor.user.uid")):
            found.append(msgspec.convert(body, Event))
            if len(found) >= limit:
                break
    return found


# ---------------------------------------------------------------------- access reviews


def open_campaign(site: Site, name: str, deadline: dt.datetime, by: str, auto_revoke: bool = True,
                  now: dt.datetime | None = None) -> ReviewCampaign:
    """One item per live authorisation at the site, for the grantee's sponsor (else whoever
    granted it) to confirm or revoke."""
    now = now or timezone.now()
    with transaction.atomic():
        base = slugify(name)[:80] or "review"
        slug, n = base, 1
        while ReviewCampaign.objects.filter(site=site, slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        campaign = ReviewCampaign.objects.create(site=site, slug=slug, name=name, created_at=now,
                                                 created_by=by[:150], deadline=deadline, auto_revoke=auto_revoke)
        sponsors = {a.person_id: a.sponsor for a in SiteAffiliation.objects.filter(site=site).select_related("sponsor")}
        for grant in Authorisation.objects.filter(site=site, revoked_at__isnull=True).filter(
                Q(valid_to__isnull=True) | Q(valid_to__gt=now)).select_related("person", "area", "granted_by"):
            ReviewItem.objects.create(
                campaign=campaign, authorisation=grant, person=grant.person,
                reviewer=sponsors.get(grant.person_id) or grant.granted_by,
                summary=f"{grant.person.name} → {grant.area.name}"
                        f"{' until ' + grant.valid_to.date().isoformat() if grant.valid_to else ' (open-ended)'}")
    return campaign


def decide(item: ReviewItem, decision: str, by: str, now: dt.datetime | None = None) -> ReviewItem:
    if decision not in (choices.ReviewDecision.CONFIRMED, choices.ReviewDecision.REVOKED):
        raise InputError("review", str(item.pk), f"decision must be confirmed or revoked, not {decision!r}")
    if item.campaign.status != choices.CampaignStatus.OPEN:
        raise InputError("review", str(item.pk), "the campaign is closed")
    now = now or timezone.now()
    with transaction.atomic():
        item.decision, item.decided_at, item.decided_by = decision, now, by[:150]
        item.save(update_fields=["decision", "decided_at", "decided_by"])
        if decision == choices.ReviewDecision.REVOKED and item.authorisation:
            _revoke_grant(item.authorisation, now, by)
    return item


def _revoke_grant(grant: Authorisation, now: dt.datetime, by: str) -> None:
    if grant.revoked_at is None:
        grant.valid_to = min(grant.valid_to, now) if grant.valid_to else now
        grant.revoked_at, grant.revoked_by = now, by[:150]
        grant.save(update_fields=["valid_to", "revoked_at", "revoked_by"])


def close_due(now: dt.datetime | None = None) -> list[ReviewCampaign]:
    """Close campaigns past their deadline; by policy, revoke the grants nobody confirmed."""
    now = now or timezone.now()
    closed = []
    for campaign in ReviewCampaign.objects.filter(status=choices.CampaignStatus.OPEN, deadline__lte=now):
        with transaction.atomic(), audit.acting_as(audit.Actor(name="policy", via="access review deadline")):
            for item in campaign.items.filter(decision=choices.ReviewDecision.PENDING).select_related(
                    "authorisation"):
                if campaign.auto_revoke:
                    item.decision, item.decided_at, item.decided_by = "auto_revoked", now, "policy"
                    item.save(update_fields=["decision", "decided_at", "decided_by"])
                    if item.authorisation:
                        _revoke_grant(item.authorisation, now, f"policy: review {campaign.name}")
            campaign.status, campaign.closed_at = choices.CampaignStatus.CLOSED, now
            campaign.save(update_fields=["status", "closed_at"])
        closed.append(campaign)
    return closed


REMIND_BEFORE = (dt.timedelta(days=3), dt.timedelta(days=1))  # reminder rounds before a review's deadline
ESCALATE_BEFORE = dt.timedelta(hours=12)  # then what is still pending goes to the zone owners


def _queue(person: Person | None, subject: str, body: str, site: Site, now: dt.datetime) -> bool:
    from linewatch.response import notify

    if person is None:
        return False
    return notify.queue_message(subject, body, notify.ladder_of_person(person, site.timezone), person=person,
                                now=now, critical=False) is not None


def _pending_lines(items: Iterable[ReviewItem]) -> str:
    return "\n".join(f"- {i.summary}" for i in items)


def remind_due(now: dt.datetime | None = None) -> dict[str, int]:
    """Remind reviewers of pending items as the deadline nears (one message per reviewer and round,
    REMIND_BEFORE); ESCALATE_BEFORE the deadline, send what is still pending to the area's zone
    owners (the site's physical-security team when an area has none) — all through the outbox."""
    from linewatch.core.models import Team
    from linewatch.response import notify

    now = now or timezone.now()
    sent = {"reminders": 0, "escalations": 0}
    for campaign in ReviewCampaign.objects.filter(status=choices.CampaignStatus.OPEN, deadline__gt=now).select_related(
            "site"):
        pending = list(campaign.items.filter(decision=choices.ReviewDecision.PENDING).select_related(
            "reviewer", "authorisation__area"))
        due = sum(campaign.deadline - before <= now for before in REMIND_BEFORE)
        when = f"{timezone.localtime(campaign.deadline):%Y-%m-%d %H:%M}"
        if due > campaign.reminders_sent:
            policy = "revoked" if campaign.auto_revoke else "kept"
            by_reviewer: dict[Person, list[ReviewItem]] = {}
            for item in pending:
                if item.reviewer is not None:
                    by_reviewer.setdefault(item.reviewer, []).append(item)
            for reviewer, items in by_reviewer.items():
                sent["reminders"] += _queue(
                    reviewer, f"Access review {campaign.name}: {len(items)} grants to confirm by {when}",
                    f"Please confirm or revoke by {when}; unreviewed grants are {policy} then.\n"
                    f"{_pending_lines(items)}\n/reviews/{campaign.site.slug}/{campaign.slug}/", campaign.site, now)
            campaign.reminders_sent = due
            campaign.save(update_fields=["reminders_sent"])
        if campaign.escalated_at is None and campaign.deadline - ESCALATE_BEFORE <= now:
            by_owner: dict[Person, list[ReviewItem]] = {}
            unowned: list[ReviewItem] = []
            owners: dict[int, list[Person]] = {}
            for o in ZoneOwner.objects.filter(area__site=campaign.site).select_related("person"):
                owners.setdefault(o.area_id, []).append(o.person)
            for item in pending:
                area = item.authorisation.area_id if item.authorisation else None
                for owner in owners.get(area, []):
                    by_owner.setdefault(owner, []).append(item)
                if not owners.get(area):
                    unowned.append(item)
            subject = f"Escalation: access review {campaign.name} has unreviewed grants (deadline {when})"
            for owner, items in by_owner.items():
                sent["escalations"] += _queue(
                    owner, subject, f"As the zone owner, confirm or revoke these grants nobody reviewed:\n"
                                    f"{_pending_lines(items)}", campaign.site, now)
            team = Team.objects.filter(site=campaign.site, kind="physical_security").first()
            if unowned and team is not None:
                sent["escalations"] += notify.queue_message(
                    subject, f"These grants have no zone owner and nobody reviewed them:\n{_pending_lines(unowned)}",
                    notify.ladder_of(team), team=team, now=now, critical=False) is not None
            campaign.escalated_at = now
            campaign.save(update_fields=["escalated_at"])
    return sent


def tick(now: dt.datetime | None = None) -> None:
    """The workforce's periodic work, called by the detection worker's tick: access reviews (close
    those past their deadline, remind and escalate the others), visits past their end, and — at most every
    HYGIENE_EVERY — alerts for orphaned access and revocations past their SLA."""
    from linewatch.workforce.visits import expire_due

    close_due(now)
    remind_due(now)
    expire_due(now)
    global _hygiene_at
    current = now or timezone.now()
    if _hygiene_at is None or current - _hygiene_at >= HYGIENE_EVERY:
        _hygiene_at = current
        alert_access_hygiene(current)


HYGIENE_EVERY = dt.timedelta(minutes=10)
_hygiene_at: dt.datetime | None = None
# access_issues kind -> (rule id, level, title): the state conditions that are incidents, not just lists
HYGIENE_RULES = {
    "orphaned": ("lw-wf-orphaned-identity", "medium", "External identity without a sponsor still has access"),
    "revocation_overdue": ("lw-wf-revocation-sla", "high", "Access not revoked within the SLA after the person left"),
}


def alert_access_hygiene(now: dt.datetime | None = None) -> int:
    """Raise one alert per person, site and condition for orphaned external identities (sponsor gone) and
    revocations past the SLA, with the grants or credentials concerned and why; a later tick with the same
    condition raises nothing new (the evidence event, and so the alert, has a deterministic id)."""
    now = now or timezone.now()
    grouped: dict[tuple[str, str, str], list[AccessIssue]] = {}
    for issue in access_issues(Site.objects.all(), now):
        if issue.kind in HYGIENE_RULES:
            grouped.setdefault((issue.kind, issue.site, issue.person.key), []).append(issue)
    raised = 0
    for (kind, site, key), issues in sorted(grouped.items()):
        rule, level, title = HYGIENE_RULES[kind]
        person = issues[0].person
        what = sorted({i.what for i in issues})
        why = f"{person.name} ({key}): {issues[0].detail}; still live: {', '.join(what)}"
        raised += raise_condition(rule, level, title, site, key, person.name, what, why,
                                  {"condition": kind, "access": what, "detail": issues[0].detail}, now)
    return raised + alert_left_inside(now)


def alert_left_inside(now: dt.datetime) -> int:
    """Zone state at the end of a stay: someone who entered a site and was not seen again for 12 hours, with no
    exit, is still on the muster list although probably gone (a missed exit read, a tailgate out, a lent badge) —
    or really still inside. One alert per person and entry; only at sites whose readers report exits."""
    from linewatch.events.models import StoredEvent
    from linewatch.events.schema import PhysicalAccessActivity

    raised = 0
    names = dict(Person.objects.values_list("key", "name"))
    for site in Site.objects.all():
        bodies = StoredEvent.objects.filter(site_slug=site.slug, class_uid=EventClass.PHYSICAL_ACCESS,
                                            time__gte=now - dt.timedelta(hours=ROSTER_HOURS), time__lte=now)
        if not any(b.get("activity_id") == PhysicalAccessActivity.EXIT
                   or (b.get("attrs") or {}).get("access.direction") == "out"
                   for b in bodies.values_list("body", flat=True).iterator()):
            continue  # a site whose readers never report exits cannot tell who left
        for entry in roster(site, now):
            if not entry.stale:
                continue
            since = dt.datetime.fromtimestamp(entry.since / 1000, dt.UTC)
            last = dt.datetime.fromtimestamp(entry.last_seen / 1000, dt.UTC)
            why = (f"{names.get(entry.person, entry.person)} ({entry.person}) entered {site.slug} at "
                   f"{since:%Y-%m-%d %H:%M}Z, last seen {last:%Y-%m-%d %H:%M}Z in {entry.area or 'the site'}, "
                   "no exit since: still on the muster list")
            raised += raise_condition("lw-wf-left-inside", "low", "Left inside: no exit after the day",
                                      site.slug, entry.person, names.get(entry.person, entry.person),
                                      [f"entry {entry.since}"], why, {"condition": "left_inside",
                                                                      "since": entry.since, "area": entry.area}, now)
    return raised


def raise_condition(rule: str, level: str, title: str, site: str, key: str, name: str, what: list[str], why: str,
                    details: dict, now: dt.datetime) -> bool:
    """An alert for a state condition (not an event) about one person: its evidence event's id comes from the
    condition, so the same condition over the same access raises one alert however often it is checked."""
    from linewatch.detect.alerts import record_alert
    from linewatch.detect.detection import Detection
    from linewatch.events.schema import Severity, event_uid
    from linewatch.events.store import store_events

    event = Event(uid=event_uid("workforce-condition", rule, site, key, *what), time=int(now.timestamp() * 1000),
                  class_uid=EventClass.ENTITY_MANAGEMENT, activity_id=99, source="linewatch-workforce", site=site,
                  severity_id=Severity.HIGH if level == "high" else Severity.MEDIUM, message=why,
                  attrs={"actor.user.uid": key, "actor.user.name": name}, unmapped={"workforce": details})
    if not store_events([event]).stored:
        return False  # raised before for the same access
    record_alert(Detection(rule_id=rule, title=title, level=level, description=why, events=(event,),
                           tags=("attack.t1078",)))
    return True


# ---------------------------------------------------------------------- posture: expiring and orphaned access


@dataclass(frozen=True)
class AccessIssue:
    kind: str  # expiring, outlives_work_order, orphaned, open_ended, revocation_overdue, overstay
    site: str
    person: Person
    what: str
    detail: str


def access_issues(sites: QuerySet[Site], now: dt.datetime | None = None) -> list[AccessIssue]:
    """Access that ends soon, outlived its work order, lost its sponsor, never ends for a non-employee,
    outlives the person's affiliation beyond the revocation SLA; visitors past their visit's end."""
    now = now or timezone.now()
    soon = now + dt.timedelta(days=EXPIRING_DAYS)
    affiliations = {(a.person_id, a.site_id): a for a in SiteAffiliation.objects.filter(site__in=sites)
                    .select_related("sponsor")}
    offboarded = set(PersonState.objects.exclude(status=choices.PersonStatus.ACTIVE).values_list("person_id",
                                                                                                 flat=True))
    found = []
    for g in Authorisation.objects.filter(site__in=sites, revoked_at__isnull=True).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gt=now)).select_related("site", "person", "area", "work_order"):
        what = f"{g.area.name}"
        aff = affiliations.get((g.person_id, g.site_id))
        if g.valid_to and g.valid_to <= soon:
            found.append(AccessIssue("expiring", g.site.slug, g.person, what, f"ends {g.valid_to:%Y-%m-%d %H:%M}"))
        wo = g.work_order
        if wo and (wo.status in ("closed", "cancelled") or wo.ends_at < now):
            found.append(AccessIssue("outlives_work_order", g.site.slug, g.person, what,
                                     f"{wo.key} is {wo.status}, ended {wo.ends_at:%Y-%m-%d}"))
        if aff and aff.kind != Affiliation.EMPLOYEE:
            if aff.sponsor is None or aff.sponsor_id in offboarded:
                found.append(AccessIssue("orphaned", g.site.slug, g.person, what,
                                         "no sponsor" if aff.sponsor is None else f"sponsor {aff.sponsor.key} left"))
            if g.valid_to is None:
                found.append(AccessIssue("open_ended", g.site.slug, g.person, what, f"{aff.kind} without expiry"))
    for c in Credential.objects.filter(status="active", valid_to__gt=now, valid_to__lte=soon, person__isnull=False,
                                       person__affiliations__site__in=sites).select_related("person").distinct():
        found.append(AccessIssue("expiring", "", c.person, str(c), f"ends {c.valid_to:%Y-%m-%d %H:%M}"))
    # revocation SLA: an external affiliation ended more than REVOCATION_SLA ago, access still live
    ended = timezone.localdate(now - REVOCATION_SLA)
    for aff in SiteAffiliation.objects.filter(site__in=sites, valid_to__lt=ended).exclude(
            kind=Affiliation.EMPLOYEE).select_related("person", "site"):
        live = [str(c) for c in _live_credentials(aff.person).filter(Q(site__isnull=True) | Q(site=aff.site))]
        live += [g.area.name for g in _live_authorisations(aff.person, now).filter(site=aff.site).select_related(
            "area")]
        if live:
            found.append(AccessIssue("revocation_overdue", aff.site.slug, aff.person, ", ".join(live),
                                     f"{aff.kind} ended {aff.valid_to}; revoke within "
                                     f"{REVOCATION_SLA.total_seconds() / 3600:.0f} h"))
    inside = Q(status=choices.VisitStatus.ON_SITE) | Q(status=choices.VisitStatus.EXPIRED, checked_in_at__isnull=False)
    for v in Visit.objects.filter(inside, site__in=sites, checked_out_at__isnull=True,
                                  expected_end__lt=now - OVERSTAY_GRACE).select_related("site", "visitor"):
        found.append(AccessIssue("overstay", v.site.slug, v.visitor, v.purpose,
                                 f"expected to leave {v.expected_end:%Y-%m-%d %H:%M}, not checked out"))
    return found


# ---------------------------------------------------------------------- access drift against PACS and OT exports


def access_drift(site: Site, pacs: list[tuple[str, bytes]] = (), accounts: list[tuple[str, bytes]] = (),
                 mapping: dict[str, str] | None = None, now: dt.datetime | None = None):
    """Compare PACS access-level exports (columns `person` — a person key or card number — and `area`) and OT
    account exports (`system`, `account`, optional `person`, `enabled`) of a site with its live authorisations
    and credentials (linewatch.workforce.engine.drift). Returns (drifts, bad rows)."""
    from linewatch.workforce.engine.drift import Granted, compare_accounts, compare_pacs
    from linewatch.workforce.importers import RowError, read_rows

    now = now or timezone.now()
    mapping = mapping or {}
    def column(row: dict, name: str) -> str:  # the mapped column, else the field's own name (one map, two exports)
        return str(row.get(mapping.get(name, name)) or row.get(name) or "").strip()

    people: dict[str, str] = {}
    for person in Person.objects.filter(organisation=site.organisation):
        people[person.key] = person.key
    for credential in Credential.objects.filter(person__organisation=site.organisation).select_related("person"):
        people.setdefault(credential.identifier, credential.person.key)
    offboarded = set(PersonState.objects.exclude(status=choices.PersonStatus.ACTIVE)
                     .values_list("person__key", flat=True))
    live = Authorisation.objects.filter(site=site, revoked_at__isnull=True).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=now)).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=now))
    authorised = set(live.values_list("person__key", "area__slug"))
    restricted = set(Area.objects.filter(site=site, restricted_level__gte=RestrictedLevel.RESTRICTED)
                     .values_list("slug", flat=True))
    credentials = set(Credential.objects.filter(Q(site__isnull=True) | Q(site=site), status="active")
                      .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=now)).exclude(person__isnull=True)
                      .values_list("person__key", "system"))
    bad: list[InputError] = []

    def rows(source: str, data: bytes, needed: tuple[str, ...]):
        for place, row in read_rows(source, data):
            where = f"{source}:{place}"
            if isinstance(row, RowError):
                bad.append(InputError(source, place, str(row)))
                continue
            missing = [n for n in needed if not column(row, n)]
            if missing:
                bad.append(InputError(source, place, f"no {', '.join(missing)} (columns: {', '.join(row)})"))
                continue
            yield where, row

    areas = {}
    for slug, name in Area.objects.filter(site=site).values_list("slug", "name"):
        areas[slug] = areas[name] = areas[name.lower()] = slug  # exports name areas as the PACS does
    granted = [Granted(where, column(row, "person"), areas.get(column(row, "area"), areas.get(
               column(row, "area").lower(), column(row, "area"))))
               for source, data in pacs for where, row in rows(source, data, ("person", "area"))]
    enabled = [Granted(where, column(row, "person") or column(row, "account"), system=column(row, "system"),
                       enabled=column(row, "enabled").lower() not in ("0", "false", "no", "disabled"))
               for source, data in accounts for where, row in rows(source, data, ("system", "account"))]
    drift = compare_pacs(granted, authorised, people, offboarded, restricted) if pacs else []
    drift += compare_accounts(enabled, credentials, people, offboarded)
    return drift, bad


DRIFT_RULES = {"orphan_account": ("lw-wf-orphan-account", "Access or account of nobody authorised"),
               "unauthorised": ("lw-wf-access-drift", "PACS grants access Linewatch has not authorised"),
               "account_without_credential": ("lw-wf-access-drift", "OT account without a live credential")}


def alert_drift(site: Site, drifts, now: dt.datetime | None = None) -> int:
    """Alerts for the drift that is exposure (orphan accounts, unauthorised access, accounts without credential);
    what is merely not yet provisioned stays in the report."""
    now = now or timezone.now()
    raised = 0
    for d in drifts:
        if d.kind not in DRIFT_RULES:
            continue
        rule, title = DRIFT_RULES[d.kind]
        name = Person.objects.filter(organisation=site.organisation, key=d.person).values_list("name", flat=True)
        raised += raise_condition(rule, "high" if d.severity == "high" else "medium", title, site.slug, d.person,
                                  name.first() or d.person, [d.what], f"{d.why} ({d.place})", d.as_dict(), now)
    return raised
