"""The visitor and contractor flow: a host pre-registers a visit, the visitor checks in at a kiosk
(ID seen, NDA and safety rules acknowledged, each kept with its time), the host is told through the
notification outbox, a badge is printed (PDF label with a QR code), an escort is assigned, the
visitor checks out, and visits past their expected end expire on the worker's periodic tick.

Access is granted at check-in, not at registration: a badge credential and an authorisation per
registered area, valid until the expected end, granted by the host. Check-out and expiry revoke
both, so nothing a visit gave outlives it.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import secrets
import zoneinfo
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from linewatch.core import audit
from linewatch.core.choices import Affiliation
from linewatch.core.models import Area, Person, Site, SiteAffiliation
from linewatch.errors import InputError
from linewatch.events.schema import Event, EventClass, VisitorActivity, event_uid
from linewatch.workforce import choices
from linewatch.workforce.models import Authorisation, Credential, Visit

BADGE_SYSTEM = "visitor-badge"
VisitStatus = choices.VisitStatus


def _at_site(site: Site, when: dt.datetime) -> dt.datetime:
    """A time on the site's wall clock (badges and messages are read there)."""
    return when.astimezone(zoneinfo.ZoneInfo(site.timezone))


def _new_code() -> str:
    return f"v{secrets.token_hex(5)}"


def visit_url(visit: Visit) -> str:
    """Where the badge's QR code leads: the visit page (sign-in required)."""
    base = os.environ.get("LINEWATCH_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/visits/v/{visit.code}/"


def _notify(person: Person | None, subject: str, body: str, site: Site, now: dt.datetime) -> bool:
    """Queue a message to a person through the outbox; False when they have no contact path."""
    if person is None:
        return False
    from linewatch.response import notify

    sent = notify.queue_message(subject, body, notify.ladder_of_person(person, site.timezone), person=person,
                                now=now, critical=False)
    return sent is not None


# ---------------------------------------------------------------------- registration


def watchlist_hits(site: Site, name: str, company: str = "", at: str = "registration",
                   day: dt.date | None = None) -> list[dict]:
    """Watchlist entries the visitor matches (fuzzy), best first: the organisation-wide ones and the
    site's own, not past their last day on `day` (the visit's date; default today on the site's
    clock). `at` names the step (registration or check-in) for the hits list."""
    from linewatch.workforce.engine.watchlist import in_force, match
    from linewatch.workforce.services import watchlist_records

    day = day or _at_site(site, timezone.now()).date()
    entries = in_force(watchlist_records(site.organisation_id), site.slug, day)
    return [{"entry": m.entry.id, "name": m.entry.name, "matched": m.matched, "score": m.score,
             "reason": m.entry.reason, "banned": m.entry.level == "critical", "same_company": m.company_matches,
             "at": at} for m in match(name, company, entries)]


def _keep_sign_in_hits(visit: Visit, hits: list[dict]) -> None:
    """Add the check-in's matches the visit does not hold yet (an entry added since registration)."""
    known = {h.get("entry") for h in visit.watchlist_hits}
    new = [h for h in hits if h["entry"] not in known]
    if new:
        visit.watchlist_hits = [*visit.watchlist_hits, *new]
        visit.save(update_fields=["watchlist_hits"])


# ---------------------------------------------------------------------- the desk's lookups


def staff(site: Site):
    """Who may host or escort at the site: its people who are not visitors."""
    return (Person.objects.filter(affiliations__site=site).exclude(affiliations__kind=Affiliation.VISITOR)
            .distinct().order_by("name"))


def staff_member(site: Site, key: str, role: str) -> Person:
    """The host or escort named by `key`, who must be one of the site's people."""
    found = staff(site).filter(key=key.strip()).first() if key and key.strip() else None
    if found is None:
        raise InputError(role, key or "?", f"choose the {role} from the site's people")
    return found


def areas_at(site: Site, slugs: Iterable[str]) -> list[Area]:
    """The site's areas of those slugs; an unknown slug is an error, not silently dropped."""
    wanted = {s.strip() for s in slugs if s and s.strip()}
    found = list(Area.objects.filter(site=site, slug__in=wanted))
    unknown = sorted(wanted - {a.slug for a in found})
    if unknown:
        raise InputError("visit", "areas", f"no such area at {site.slug}: {', '.join(unknown)}")
    return found


def local_time(value: str, site: Site, field: str) -> dt.datetime:
    """An ISO 8601 date and time; without an offset it is read on the site's wall clock."""
    try:
        naive = dt.datetime.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise InputError("visit", field, f"not a date and time: {value!r}") from None
    return naive.replace(tzinfo=zoneinfo.ZoneInfo(site.timezone)) if naive.tzinfo is None else naive


def at_desk(site: Site, now: dt.datetime | None = None) -> tuple:
    """What reception works from: visits expected today (not yet ended) and visitors on site."""
    now = now or timezone.now()
    tz = zoneinfo.ZoneInfo(site.timezone)
    start = dt.datetime.combine(now.astimezone(tz).date(), dt.time(), tz)
    expected = Visit.objects.filter(site=site, status=VisitStatus.EXPECTED, code__isnull=False,
                                    expected_start__lt=start + dt.timedelta(days=1), expected_end__gt=now)
    on_site = Visit.objects.filter(site=site, status=VisitStatus.ON_SITE)
    return (expected.select_related("visitor", "host", "escort").order_by("expected_start"),
            on_site.select_related("visitor", "host", "escort").order_by("checked_in_at"))


def _event(visit: Visit, activity: int, at: dt.datetime, by: str) -> None:
    """Record the desk's step as an event: the pipeline's detections (watchlist, overstay) see it."""
    from linewatch.events.store import store_events

    attrs = {"user.name": visit.visitor.name, "user.uid": visit.visitor.key, "actor.user.name": by,
             "visit.code": visit.code or ""}
    if visit.company:
        attrs["user.org.name"] = visit.company
    if visit.host:
        attrs["host.user.name"] = visit.host.key
    store_events([Event(uid=event_uid("visits", f"{visit.code}:{activity}:{at.timestamp()}"),
                        time=int(at.timestamp() * 1000), class_uid=EventClass.VISITOR_ACTIVITY,
                        activity_id=activity, status_id=1, site=visit.site.slug, source="linewatch-visits",
                        message=f"visitor {visit.visitor.name}: {choices_label(activity)}", attrs=attrs)])


def choices_label(activity: int) -> str:
    return VisitorActivity(activity).name.lower().replace("_", " ")


def _visitor(site: Site, name: str) -> Person:
    """The returning visitor of that name in the organisation, else a new visitor person."""
    known = Person.objects.filter(organisation=site.organisation, name__iexact=name,
                                  affiliations__kind=Affiliation.VISITOR).first()
    if known:
        return known
    key = f"v-{slugify(name)[:40] or 'visitor'}-{secrets.token_hex(2)}"
    return Person.objects.create(organisation=site.organisation, key=key, name=name)


def register(site: Site, *, name: str, host: Person, purpose: str, expected_start: dt.datetime,
             expected_end: dt.datetime, company: str = "", escort_required: bool = True,
             areas: Iterable[Area] = (), by: str = "", now: dt.datetime | None = None) -> Visit:
    """Pre-register a visit. The host sponsors the visitor's affiliation for the visit's days."""
    now = now or timezone.now()
    name, purpose = name.strip(), purpose.strip()
    problems = []
    if not name:
        problems.append("the visitor's name is missing")
    elif len(name) > 200:
        problems.append("the visitor's name is longer than 200 characters")
    if not purpose:
        problems.append("the purpose is missing")
    if expected_end <= expected_start:
        problems.append("the expected end must be after the expected start")
    if expected_end <= now:
        problems.append("the expected end has already passed")
    if host.organisation_id != site.organisation_id:
        problems.append(f"the host {host.key} is not of this organisation")
    areas = list(areas)
    if any(a.site_id != site.pk for a in areas):
        problems.append("an area is not at this site")
    if problems:
        raise InputError("visit", name or "?", "; ".join(problems))
    with transaction.atomic():
        visitor = _visitor(site, name)
        aff = SiteAffiliation.objects.filter(person=visitor, site=site).first()
        start, end = _at_site(site, expected_start).date(), _at_site(site, expected_end).date()
        if aff is None:
            SiteAffiliation.objects.create(person=visitor, site=site, kind=Affiliation.VISITOR, sponsor=host,
                                           valid_from=start, valid_to=end)
        else:
            aff.sponsor, aff.valid_to = host, max(aff.valid_to or end, end)
            aff.save(update_fields=["sponsor", "valid_to"])
        visit = Visit.objects.create(site=site, visitor=visitor, host=host, purpose=purpose[:300],
                                     company=company.strip()[:200], escort_required=escort_required,
                                     expected_start=expected_start, expected_end=expected_end, code=_new_code(),
                                     registered_at=now, registered_by=by[:150])
        visit.areas.set(areas)
        visit.watchlist_hits = watchlist_hits(site, name, company, day=_at_site(site, max(now, expected_start)).date())
        if visit.watchlist_hits:
            visit.save(update_fields=["watchlist_hits"])
    _event(visit, VisitorActivity.PRE_REGISTERED, now, by)
    return visit


# ---------------------------------------------------------------------- check-in, escort, check-out


def check_in(visit: Visit, *, id_document: str, id_last_digits: str, id_seen: bool, nda: bool, safety: bool,
             by: str, now: dt.datetime | None = None) -> Visit:
    """Check the visitor in: refused unless the ID was seen and the NDA and safety rules were
    acknowledged. Issues the badge credential and the area grants; tells the host."""
    now = now or timezone.now()
    problems = []
    if visit.status != VisitStatus.EXPECTED:
        problems.append(f"the visit is {visit.get_status_display().lower()}, not expected")
    elif visit.expected_end <= now:
        problems.append("the visit's expected end has passed")
    if id_document not in choices.IdDocument.values:
        problems.append("choose the kind of ID document")
    digits = id_last_digits.strip().upper()
    if not (2 <= len(digits) <= 6 and digits.isalnum()):
        problems.append("enter the last 2–6 characters of the ID number")
    if not id_seen:
        problems.append("the ID must be seen and compared with the visitor")
    if not nda:
        problems.append("the visitor must accept the non-disclosure agreement")
    if not safety:
        problems.append("the visitor must acknowledge the safety rules")
    hits = watchlist_hits(visit.site, visit.visitor.name, visit.company, at="check-in",
                          day=_at_site(visit.site, now).date())
    if not problems:
        _keep_sign_in_hits(visit, hits)  # kept for the hits list, also when the watchlist refuses
    banned = [h for h in hits if h["banned"]]
    if banned:
        problems.append(f"the visitor matches the watchlist ({banned[0]['name']}: {banned[0]['reason']}); "
                        "security must clear them first")
    if problems:
        if banned and len(problems) == 1:
            _event(visit, VisitorActivity.DENIED, now, by)
        raise InputError("check-in", visit.code or str(visit.pk), "; ".join(problems))
    with transaction.atomic():
        badge = Credential.objects.create(
            person=visit.visitor, site=visit.site, kind=choices.CredentialKind.BADGE, system=BADGE_SYSTEM,
            identifier=visit.code or _new_code(), valid_from=now, valid_to=visit.expected_end,
            status_reason=f"visit {visit.code}")
        for area in visit.areas.all():
            Authorisation.objects.update_or_create(person=visit.visitor, area=area, defaults={
                "site": visit.site, "valid_from": now, "valid_to": visit.expected_end, "schedule": "",
                "granted_by": visit.host, "reason": f"visit {visit.code}: {visit.purpose}"[:300],
                "work_order": None, "revoked_at": None, "revoked_by": ""})
        visit.status, visit.checked_in_at, visit.checked_in_by = VisitStatus.ON_SITE, now, by[:150]
        visit.id_document, visit.id_last_digits = id_document, digits
        visit.nda_accepted_at = visit.safety_accepted_at = now
        visit.badge = badge
        escort = " An escort is required: please collect them." if visit.escort_required else ""
        if _notify(visit.host, f"Your visitor {visit.visitor.name} has arrived",
                   f"{visit.visitor.name}{' (' + visit.company + ')' if visit.company else ''} checked in at "
                   f"{visit.site.name} at {_at_site(visit.site, now):%H:%M} for: {visit.purpose}.{escort}",
                   visit.site, now):
            visit.host_notified_at = now
        visit.save()
    _event(visit, VisitorActivity.CHECK_IN, now, by)
    return visit


def assign_escort(visit: Visit, escort: Person, by: str, now: dt.datetime | None = None) -> Visit:
    now = now or timezone.now()
    if escort.pk == visit.visitor_id:
        raise InputError("escort", escort.key, "a visitor cannot escort themself")
    if escort.organisation_id != visit.site.organisation_id:
        raise InputError("escort", escort.key, "the escort is not of this organisation")
    if SiteAffiliation.objects.filter(person=escort, site=visit.site, kind=Affiliation.VISITOR).exists():
        raise InputError("escort", escort.key, "a visitor cannot escort another visitor")
    if visit.status not in (VisitStatus.EXPECTED, VisitStatus.ON_SITE):
        raise InputError("escort", visit.code or str(visit.pk), f"the visit is {visit.status}")
    visit.escort = escort
    visit.save(update_fields=["escort"])
    _notify(escort, f"Please escort {visit.visitor.name}",
            f"You escort {visit.visitor.name} at {visit.site.name} until "
            f"{_at_site(visit.site, visit.expected_end):%Y-%m-%d %H:%M} ({visit.purpose}; assigned by {by}).",
            visit.site, now)
    return visit


def _end_access(visit: Visit, now: dt.datetime, by: str) -> None:
    """Revoke the visit's badge and area grants."""
    if visit.badge_id:
        Credential.objects.filter(pk=visit.badge_id).exclude(status=choices.CredentialStatus.REVOKED).update(
            status=choices.CredentialStatus.REVOKED, status_changed_at=now, status_reason=f"visit ended ({by})"[:300],
            valid_to=now)
    for grant in Authorisation.objects.filter(person=visit.visitor, site=visit.site, revoked_at__isnull=True,
                                              reason__startswith=f"visit {visit.code}:"):
        grant.valid_to = min(grant.valid_to, now) if grant.valid_to else now
        grant.revoked_at, grant.revoked_by = now, by[:150]
        grant.save(update_fields=["valid_to", "revoked_at", "revoked_by"])


def check_out(visit: Visit, by: str, now: dt.datetime | None = None) -> Visit:
    """The visitor leaves (also after an expiry, when they were still inside): access ends."""
    now = now or timezone.now()
    if visit.checked_in_at is None or visit.checked_out_at is not None:
        raise InputError("check-out", visit.code or str(visit.pk), "the visitor is not checked in")
    with transaction.atomic():
        _end_access(visit, now, by)
        visit.checked_out_at, visit.status = now, VisitStatus.LEFT
        visit.save(update_fields=["checked_out_at", "status"])
    _event(visit, VisitorActivity.CHECK_OUT, now, by)
    return visit


def cancel(visit: Visit, by: str) -> Visit:
    if visit.status != VisitStatus.EXPECTED:
        raise InputError("visit", visit.code or str(visit.pk), "only an expected visit can be cancelled")
    visit.status = VisitStatus.CANCELLED
    visit.save(update_fields=["status"])
    return visit


# ---------------------------------------------------------------------- automatic expiry


def expire_due(now: dt.datetime | None = None) -> list[Visit]:
    """Visits past their expected end: a no-show expires; a visitor still checked in loses the
    badge and grants after the overstay grace, stays on the overstay list until checked out, and
    the host is told. Run by the worker's periodic tick (services.tick)."""
    from linewatch.workforce.services import OVERSTAY_GRACE

    now = now or timezone.now()
    expired = []
    actor = audit.Actor(name="policy", via="visit expiry")
    for visit in Visit.objects.filter(status=VisitStatus.EXPECTED, expected_end__lte=now).select_related("site"):
        with audit.acting_as(actor):
            visit.status, visit.expired_at = VisitStatus.EXPIRED, now
            visit.save(update_fields=["status", "expired_at"])
        expired.append(visit)
    for visit in Visit.objects.filter(status=VisitStatus.ON_SITE, checked_out_at__isnull=True,
                                      expected_end__lte=now - OVERSTAY_GRACE).select_related(
            "site", "visitor", "host"):
        with transaction.atomic(), audit.acting_as(actor):
            _end_access(visit, now, "policy: visit expired")
            visit.status, visit.expired_at = VisitStatus.EXPIRED, now
            visit.save(update_fields=["status", "expired_at"])
        _notify(visit.host, f"Your visitor {visit.visitor.name} has not checked out",
                f"{visit.visitor.name} was expected to leave {visit.site.name} at "
                f"{_at_site(visit.site, visit.expected_end):%H:%M}; their badge has been revoked. "
                "Please find them and check them out.", visit.site, now)
        expired.append(visit)
    return expired


# ---------------------------------------------------------------------- the badge


def _latin1(text: str) -> str:
    return str(text).replace("\u2014", "-").replace("\u2013", "-").encode("latin-1", "replace").decode("latin-1")


def badge_pdf(visit: Visit) -> bytes:
    """A CR80-sized label (86 × 54 mm): name, company, host, areas, validity, escort mark, and a
    QR code of the visit's URL for guards to scan."""
    import segno
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format=(54, 86))
    pdf.set_auto_page_break(False)
    pdf.set_margins(4, 4, 4)
    pdf.add_page()
    pdf.set_fill_color(*((20, 20, 20) if visit.escort_required else (0, 90, 160)))
    pdf.rect(0, 0, 86, 9, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("Helvetica", "B", 11)
    pdf.set_xy(4, 1.5)
    pdf.cell(78, 6, _latin1("VISITOR - ESCORT REQUIRED" if visit.escort_required else "VISITOR"))
    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(4, 11)
    pdf.set_font("Helvetica", "B", 13)
    pdf.multi_cell(50, 5.5, _latin1(visit.visitor.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    lines = [visit.company, f"Host: {visit.host.name if visit.host else '-'}", visit.site.name,
             f"Valid until {_at_site(visit.site, visit.expected_end):%Y-%m-%d %H:%M}",
             "Areas: " + (", ".join(a.name for a in visit.areas.all()) or "reception only")]
    for line in lines:
        if line:
            pdf.multi_cell(52, 3.6, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    qr = io.BytesIO()
    segno.make(visit_url(visit), error="m").save(qr, kind="png", scale=6, border=1)
    qr.seek(0)
    pdf.image(qr, x=58, y=12, w=25, h=25)
    pdf.set_font("Courier", "B", 8)
    pdf.set_xy(56, 38)
    pdf.cell(29, 4, visit.code or "", align="C")
    return bytes(pdf.output())
