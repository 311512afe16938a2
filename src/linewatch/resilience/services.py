"""Crisis operations shared by the UI, the API and the CLI: declare a crisis and move its phases,
confirm site status, run roll calls (audience, answer links, SMS/e-mail/kiosk replies, reminder
waves, escalation) and degraded-mode runbooks. Roll-call answers and runbook steps also go to the
site's evidence ledger.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import os
import re
import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from linewatch.core.models import Person, Site, Team
from linewatch.events.schema import EventClass, VisitorActivity
from linewatch.resilience.models import (
    PHASE_ORDER,
    Answer,
    AnswerLink,
    Channel,
    Crisis,
    Participant,
    Phase,
    PhaseChange,
    RollCall,
    RollCallAnswer,
    Runbook,
    RunbookRun,
    RunbookStep,
    SiteState,
    SiteStatus,
    StepCompletion,
)
from linewatch.response import messages, notify
from linewatch.response.models import Notification, ReceiptKind

LINK_HOURS = int(os.environ.get("LINEWATCH_ROLLCALL_LINK_HOURS", "12"))
ROSTER_HOURS = int(os.environ.get("LINEWATCH_ROSTER_HOURS", "16"))  # a badge-in older than a shift is stale
LINK_SALT = "linewatch.rollcall.link"
MAX_PHOTO_BYTES = 8 * 1024 * 1024


class ReplyRefused(Exception):
    """An inbound answer that cannot be accepted; `reason` says why, and nothing was changed."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def base_url() -> str:
    return os.environ.get("LINEWATCH_BASE_URL", "http://127.0.0.1:8000").rstrip("/")


def ledger(site: Site, kind: str, body: dict, at: dt.datetime | None = None) -> None:
    """Append to the site's evidence ledger (inside the caller's transaction)."""
    from linewatch.evidence.records import record

    record(site, kind, body, at=at)


# ---------------------------------------------------------------- crisis and phases


def declare(*, title: str, kind: str, sites: Iterable[Site], by: str, exercise: bool = False,
            description: str = "", now: dt.datetime | None = None, roll_call: bool = True,
            reminder_minutes: int = 5, max_waves: int = 2, uid: str = "") -> Crisis:
    """Declare a crisis for the sites: phase mobilisation, each site's emergency team told, a roll
    call opened per site (first wave queued), and the site's runbooks for this scenario started."""
    now = now or timezone.now()
    sites = list(sites)
    if not sites:
        raise ValueError("a crisis needs at least one site")
    with transaction.atomic():
        uid = uid or f"{now:%Y%m%d}-{kind[:5]}-{secrets.token_hex(3)}"
        crisis = Crisis.objects.create(uid=uid, title=title, kind=kind, phase=Phase.MOBILISATION, exercise=exercise,
                                       description=description, declared=now, declared_by=by)
        crisis.sites.set(sites)
        PhaseChange.objects.create(crisis=crisis, phase=Phase.MOBILISATION, time=now, by=by, note="declared")
        for site in sites:
            ledger(site, "crisis.declared", {"crisis": crisis.uid, "title": title, "kind": kind,
                                             "exercise": exercise, "by": by}, at=now)
            subject, body = messages.render("crisis_declared", {
                "site": site.slug, "sites": ", ".join(s.name for s in sites), "crisis": title,
                "kind": crisis.get_kind_display(), "phase": crisis.get_phase_display(), "by": by,
                "time": f"{now:%Y-%m-%d %H:%M} UTC", "description": description,
                "link": f"{base_url()}/crises/{crisis.uid}/"})
            for team in emergency_teams(site):
                notify.queue_message(subject, body, notify.ladder_of(team), team=team, now=now, exercise=exercise)
            for runbook in Runbook.objects.filter(site=site, scenario=kind):
                RunbookRun.objects.create(crisis=crisis, runbook=runbook, started=now, started_by=by)
            if roll_call:
                open_roll_call(crisis, site, now=now, reminder_minutes=reminder_minutes, max_waves=max_waves)
    return crisis


def set_phase(crisis: Crisis, phase: str, by: str, note: str = "", now: dt.datetime | None = None) -> Crisis:
    """Move the crisis to a phase (forward or back, e.g. recovery → handling on a relapse); closing
    closes its roll calls."""
    if phase not in PHASE_ORDER:
        raise ValueError(f"unknown phase {phase!r}: one of {', '.join(PHASE_ORDER)}")
    if crisis.phase == Phase.CLOSED:
        raise ValueError("the crisis is closed")
    now = now or timezone.now()
    with transaction.atomic():
        crisis.phase = phase
        crisis.closed = now if phase == Phase.CLOSED else None
        crisis.save(update_fields=["phase", "closed"])
        PhaseChange.objects.create(crisis=crisis, phase=phase, time=now, by=by, note=note)
        if phase == Phase.CLOSED:
            crisis.roll_calls.filter(closed=None).update(closed=now)
        for site in crisis.sites.all():
            ledger(site, "crisis.phase", {"crisis": crisis.uid, "phase": phase, "by": by, "note": note}, at=now)
    return crisis


def emergency_teams(site: Site) -> list[Team]:
    """Who a site's emergencies go to: its physical-security and site-management teams."""
    return list(Team.objects.filter(site=site, kind__in=["physical_security", "management"]).order_by("kind", "slug"))


# ---------------------------------------------------------------- site status


def confirm_status(site: Site, state: str, capacity: int, by: str, *, reason: str = "",
                   crisis: Crisis | None = None, now: dt.datetime | None = None) -> SiteStatus:
    """Record a confirmation of the site's state; every confirmation is kept."""
    if state not in SiteState.values:
        raise ValueError(f"unknown state {state!r}: one of {', '.join(SiteState.values)}")
    if not 0 <= capacity <= 100:
        raise ValueError("capacity is a percentage, 0 to 100")
    now = now or timezone.now()
    with transaction.atomic():
        status = SiteStatus.objects.create(site=site, crisis=crisis, state=state, capacity=capacity,
                                           reason=reason[:300], time=now, by=by)
        ledger(site, "site.status", {"state": state, "capacity": capacity, "reason": reason, "by": by,
                                     "crisis": crisis.uid if crisis else None}, at=now)
    return status


def status_board(sites: Iterable[Site]) -> list[dict]:
    """Each site's latest confirmed state, or "unconfirmed" when nobody has reported yet."""
    board = []
    for site in sites:
        latest = site.status_reports.order_by("-time", "-id").first()
        board.append({"site": site, "status": latest,
                      "state": latest.state if latest else "unconfirmed",
                      "capacity": latest.capacity if latest else None})
    return board


# ---------------------------------------------------------------- roster and audience


@dataclass
class RosterEntry:
    person: Person
    since: dt.datetime
    source: str


def live_roster(site: Site, now: dt.datetime | None = None) -> dict[int, RosterEntry]:
    """Who is on site now: the workforce roster (the last badge event per person and site, cards
    resolved to people) plus visitors whose last visitor event within ROSTER_HOURS is a check-in
    (the badge roster does not read visitor-desk events)."""
    from linewatch.events.models import StoredEvent
    from linewatch.workforce.services import roster as badge_roster

    now = now or timezone.now()
    present: dict[str, tuple[dt.datetime, str]] = {}
    for entry in badge_roster(site, now):
        since = dt.datetime.fromtimestamp(entry.since / 1000, dt.UTC)
        where = f"badge in {entry.area}" if entry.area else "badge"
        present[entry.person] = (since, where + (", not seen for 12 h" if entry.stale else ""))
    since = now - dt.timedelta(hours=ROSTER_HOURS)
    visits = (StoredEvent.objects.filter(site_slug=site.slug, time__gte=since, time__lte=now,
                                         class_uid=EventClass.VISITOR_ACTIVITY,
                                         activity_id__in=[VisitorActivity.CHECK_IN, VisitorActivity.CHECK_OUT])
              .order_by("time", "id").values_list("time", "activity_id", "body"))
    last_visit: dict[str, tuple[dt.datetime, bool]] = {}
    for time, activity, body in visits:
        attrs = (body or {}).get("attrs", {})
        who = str(attrs.get("actor.user.uid") or attrs.get("actor.user.name") or attrs.get("visitor.name") or "")
        if who:
            last_visit[who] = (time, activity == VisitorActivity.CHECK_IN)
    for who, (time, inside) in last_visit.items():
        if inside:
            present.setdefault(who, (time, "visitor check-in"))
        else:
            present.pop(who, None)
    if not present:
        return {}
    people = Person.objects.filter(organisation=site.organisation).filter(
        Q(key__in=list(present)) | Q(name__in=list(present)))
    out: dict[int, RosterEntry] = {}
    for person in people:
        hit = present.get(person.key) or present.get(person.name)
        if hit:
            out[person.pk] = RosterEntry(person, hit[0], hit[1])
    return out


def on_shift(site: Site, now: dt.datetime) -> dict[int, tuple[Person, str]]:
    """The people a shift of the site expects there now (site wall clock), with the shift's name."""
    from linewatch.resilience.models import Shift
    from linewatch.workforce.engine.schedule import parse_schedule, zone

    local = now.astimezone(zone(site.timezone)).replace(tzinfo=None)
    expected: dict[int, tuple[Person, str]] = {}
    for shift in Shift.objects.filter(site=site).select_related("team").prefetch_related("people"):
        if not parse_schedule(shift.schedule).open_at(local):
            continue
        people = list(shift.people.all())
        if shift.team is not None:
            people += [m.person for m in shift.team.memberships.select_related("person")]
        for person in people:
            expected.setdefault(person.pk, (person, shift.name))
    return expected


def audience(site: Site, now: dt.datetime | None = None) -> list[tuple[Person, bool, str]]:
    """(person, on site, why) for everyone a roll call at the site must account for: the live
    roster first, then the people the shift schedule expects there who did not badge in, then the people
    affiliated with the site (employees, guards …, valid today)."""
    now = now or timezone.now()
    roster = live_roster(site, now)
    out = [(e.person, True, f"on site since {e.since:%H:%M} UTC ({e.source})") for e in roster.values()]
    expected = {pk: hit for pk, hit in on_shift(site, now).items() if pk not in roster}
    out += [(person, False, f"on the {name} now, no badge-in seen") for person, name in expected.values()]
    roster = {**roster, **expected}
    today = now.date()
    affiliated = (Person.objects.filter(affiliations__site=site)
                  .filter(Q(affiliations__valid_from=None) | Q(affiliations__valid_from__lte=today))
                  .filter(Q(affiliations__valid_to=None) | Q(affiliations__valid_to__gte=today))
                  .exclude(pk__in=list(roster)).distinct().prefetch_related("affiliations"))
    for person in affiliated:
        kinds = sorted({a.get_kind_display().lower() for a in person.affiliations.all() if a.site_id == site.pk})
        out.append((person, False, f"affiliated with the site ({', '.join(kinds)})"))
    return sorted(out, key=lambda x: (not x[1], "no badge-in" not in x[2], x[0].name))


# ---------------------------------------------------------------- roll call


def _new_code(taken: set[str]) -> str:
    while True:
        code = f"{secrets.randbelow(9000) + 1000}"
        if code not in taken:
            taken.add(code)
            return code


def open_roll_call(crisis: Crisis, site: Site, *, now: dt.datetime | None = None, reminder_minutes: int = 5,
                   max_waves: int = 2) -> RollCall:
    """Open the site's roll call with its audience and send the first wave."""
    now = now or timezone.now()
    with transaction.atomic():
        rc = RollCall.objects.create(crisis=crisis, site=site, opened=now, reminder_minutes=reminder_minutes,
                                     max_waves=max_waves)
        # Codes are unique among all open roll calls, so an SMS "SAFE 4821" names one participant.
        taken = set(Participant.objects.filter(roll_call__closed=None).values_list("code", flat=True))
        Participant.objects.bulk_create([
            Participant(roll_call=rc, person=person, on_site=on_site, why=why[:200], code=_new_code(taken))
            for person, on_site, why in audience(site, now)])
        ledger(site, "rollcall.opened", {"roll_call": rc.pk, "crisis": crisis.uid, "audience": rc.participants.count(),
                                         "on_site": rc.participants.filter(on_site=True).count()}, at=now)
        send_wave(rc, now)
    return rc


def issue_link(participant: Participant, now: dt.datetime, wave: int = 1) -> str:
    """A personal answer link's token: signed (so a forged one is recognised as such), single use,
    expiring after LINK_HOURS; only a digest of its secret is stored."""
    secret = secrets.token_urlsafe(18)
    link = AnswerLink.objects.create(participant=participant, digest=hashlib.sha256(secret.encode()).hexdigest(),
                                     issued=now, expires=now + dt.timedelta(hours=LINK_HOURS), wave=wave)
    return signing.dumps([link.pk, secret], salt=LINK_SALT, compress=True)


def link_url(token: str) -> str:
    return f"{base_url()}/r/{token}/"


def send_wave(rc: RollCall, now: dt.datetime | None = None) -> int:
    """Message every participant without an answer (a fresh link each); return how many were queued."""
    now = now or timezone.now()
    crisis = rc.crisis
    wave = rc.waves + 1
    queued = 0
    for p in rc.participants.select_related("person").filter(answers=None):
        token = issue_link(p, now, wave)
        subject, body = messages.render("rollcall" if wave == 1 else "rollcall_reminder", {
            "name": p.person.name, "site": rc.site.name, "crisis": crisis.title, "link": link_url(token),
            "code": p.code, "wave": wave}, exercise=crisis.exercise)
        n = notify.queue_message(subject, body, notify.ladder_of_person(p.person, rc.site.timezone),
                                 person=p.person, now=now, exercise=crisis.exercise)
        if n is not None:
            p.links.filter(wave=wave).update(notification=n)
            queued += 1
    rc.waves = wave
    rc.last_wave = now
    rc.save(update_fields=["waves", "last_wave"])
    return queued


def remind_due(now: dt.datetime | None = None) -> int:
    """Reminder waves for open roll calls whose interval has passed; after `max_waves` the site's
    emergency team gets the unaccounted list (once). Returns the roll calls acted on."""
    now = now or timezone.now()
    acted = 0
    for rc in RollCall.objects.filter(closed=None, escalated=None).select_related("crisis", "site"):
        if rc.last_wave and now < rc.last_wave + dt.timedelta(minutes=rc.reminder_minutes):
            continue
        if not rc.participants.filter(answers=None).exists():
            continue
        with transaction.atomic():
            if rc.waves < rc.max_waves:
                send_wave(rc, now)
            else:
                escalate_unaccounted(rc, now)
        acted += 1
    return acted


def escalate_unaccounted(rc: RollCall, now: dt.datetime) -> None:
    """Tell the site's emergency team who is still unaccounted for (and who needs help)."""
    missing = unaccounted(rc)
    help_needed = [p for p in current(rc) if p["answer"] == Answer.NEED_HELP]
    people = "\n".join(f"- {p.person.name} ({p.person.phone or 'no phone'}; {p.why})" for p in missing)
    subject, body = messages.render("rollcall_unaccounted", {
        "site": rc.site.name, "crisis": rc.crisis.title, "count": len(missing), "waves": rc.waves,
        "help": len(help_needed), "people": people,
        "link": f"{base_url()}/crises/{rc.crisis.uid}/{rc.site.slug}/unaccounted/"}, exercise=rc.crisis.exercise)
    for team in emergency_teams(rc.site):
        notify.queue_message(subject, body, notify.ladder_of(team), team=team, now=now, exercise=rc.crisis.exercise)
    rc.escalated = now
    rc.save(update_fields=["escalated"])
    ledger(rc.site, "rollcall.escalated", {"roll_call": rc.pk, "unaccounted": [p.person.key for p in missing],
                                           "waves": rc.waves}, at=now)


def current(rc: RollCall) -> list[dict]:
    """Each participant with their latest answer (None when they have not answered)."""
    latest: dict[int, RollCallAnswer] = {}
    for a in RollCallAnswer.objects.filter(participant__roll_call=rc).order_by("time", "id"):
        latest[a.participant_id] = a
    out = []
    for p in rc.participants.select_related("person"):
        a = latest.get(p.pk)
        out.append({"participant": p, "person": p.person, "answer": a.answer if a else None, "latest": a})
    return out


def tally(rc: RollCall) -> dict[str, int]:
    """Counts per latest answer, plus no_answer and total."""
    counts = Counter(row["answer"] or "no_answer" for row in current(rc))
    result = {k: counts.get(k, 0) for k in [*Answer.values, "no_answer"]}
    result["total"] = sum(result.values())
    return result


def unaccounted(rc: RollCall) -> list[Participant]:
    """Participants with no answer at all, on-site people first."""
    return list(rc.participants.filter(answers=None).select_related("person").order_by("-on_site", "person__name"))


def _record(p: Participant, answer: str, channel: str, now: dt.datetime, text: str, via: str,
            link: AnswerLink | None = None) -> RollCallAnswer:
    rc = p.roll_call
    if rc.closed is not None:
        raise ReplyRefused("this roll call is closed")
    row = RollCallAnswer.objects.create(participant=p, answer=answer, channel=channel, time=now, text=text[:500],
                                        via=via[:200])
    # Every message that asked this person now has its answer: stop their ladders, keep the receipt.
    asking = Notification.objects.filter(pk__in=p.links.exclude(notification=None).values("notification"))
    for n in asking:
        notify.acknowledge_notification(n, ReceiptKind.ANSWERED, f"{channel}: {answer}", now)
    ledger(rc.site, "rollcall.answer", {"roll_call": rc.pk, "crisis": rc.crisis.uid, "person": p.person.key,
                                        "answer": answer, "channel": channel, "via": via, "text": text}, at=now)
    return row


def check_link(token: str, now: dt.datetime | None = None) -> AnswerLink:
    """The link a token names, if it may still be used; ReplyRefused with the reason otherwise."""
    now = now or timezone.now()
    try:
        link_id, secret = signing.loads(token, salt=LINK_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise ReplyRefused("unknown link: it was not issued by this Linewatch or was altered") from None
    link = AnswerLink.objects.select_related("participant__person", "participant__roll_call__site",
                                             "participant__roll_call__crisis").filter(pk=link_id).first()
    if link is None or not secrets.compare_digest(link.digest, hashlib.sha256(str(secret).encode()).hexdigest()):
        raise ReplyRefused("unknown link: it was not issued by this Linewatch or was altered")
    if link.used is not None:
        raise ReplyRefused(f"this link was already used at {link.used:%H:%M} UTC; each link answers once — "
                           "use the newest message, reply by SMS or e-mail, or go to the kiosk")
    if now >= link.expires:
        raise ReplyRefused(f"this link expired at {link.expires:%Y-%m-%d %H:%M} UTC")
    if link.participant.roll_call.closed is not None:
        raise ReplyRefused("this roll call is closed")
    return link


def answer_by_link(token: str, answer: str, text: str = "", *, now: dt.datetime | None = None,
                   via: str = "") -> RollCallAnswer:
    """Answer through a personal link: the link is used up by the answer."""
    if answer not in Answer.values:
        raise ReplyRefused(f"unknown answer {answer!r}: safe, need_help or not_on_site")
    now = now or timezone.now()
    with transaction.atomic():
        link = check_link(token, now)
        # Mark used under the row's lock, so two submissions of one link cannot both count.
        claimed = AnswerLink.objects.filter(pk=link.pk, used=None).update(used=now)
        if not claimed:
            raise ReplyRefused("this link was already used; each link answers once")
        return _record(link.participant, answer, Channel.LINK, now, text, via or "personal link", link)


KEYWORDS = {"SAFE": Answer.SAFE, "OK": Answer.SAFE, "HELP": Answer.NEED_HELP, "SOS": Answer.NEED_HELP,
            "OUT": Answer.NOT_ON_SITE, "AWAY": Answer.NOT_ON_SITE, "OFFSITE": Answer.NOT_ON_SITE}
REPLY = re.compile(r"^\s*(?:(?P<word>[A-Za-z]+)\s+(?P<code>\d{4,8})|(?P<code2>\d{4,8})\s+(?P<word2>[A-Za-z]+))"
                   r"\b[\s,.:;-]*(?P<text>.*)$", re.S)


def parse_reply(text: str) -> tuple[str, str, str]:
    """(answer, code, free text) from "SAFE 4821", "help 4821 trapped in hall 2", "4821 OUT"."""
    m = REPLY.match(text or "")
    if not m:
        raise ReplyRefused("no answer found: reply SAFE, HELP or OUT followed by your code, e.g. SAFE 4821")
    word = (m["word"] or m["word2"]).upper()
    if word not in KEYWORDS:
        raise ReplyRefused(f"unknown answer word {word!r}: reply SAFE, HELP or OUT followed by your code")
    return KEYWORDS[word], m["code"] or m["code2"], (m["text"] or "").strip()


def _digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    return digits[2:] if digits.startswith("00") else digits


def _open_participant(code: str, sites: Iterable[Site] | None = None) -> Participant:
    rows = (Participant.objects.select_related("person", "roll_call__site", "roll_call__crisis")
            .filter(code=code, roll_call__closed=None))
    p = rows.first()
    if p is None:
        raise ReplyRefused(f"unknown code {code}: no open roll call has it")
    if sites is not None and p.roll_call.site not in list(sites):
        raise ReplyRefused(f"code {code} belongs to a roll call at a site this gateway does not serve")
    return p


def answer_by_sms(sender: str, body: str, *, now: dt.datetime | None = None,
                  sites: Iterable[Site] | None = None) -> RollCallAnswer:
    """An SMS keyword reply from the gateway: the sender's number must be the participant's."""
    answer, code, text = parse_reply(body)
    now = now or timezone.now()
    with transaction.atomic():
        p = _open_participant(code, sites)
        if not p.person.phone or _digits(p.person.phone) != _digits(sender):
            raise ReplyRefused(f"wrong person: code {code} does not belong to the number {sender}")
        return _record(p, answer, Channel.SMS, now, text, sender)


def answer_by_email(raw: bytes, *, now: dt.datetime | None = None,
                    sites: Iterable[Site] | None = None) -> RollCallAnswer:
    """An e-mail reply (RFC 5322): the code in the subject ("[RC 4821]") or the body, the answer
    word on the first line that is not quoted; the From address must be the participant's."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    sender = email.utils.parseaddr(str(message.get("From", "")))[1].lower()
    if not sender:
        raise ReplyRefused("the e-mail has no From address")
    subject = str(message.get("Subject", ""))
    part = message.get_body(preferencelist=("plain",))
    body = part.get_content() if part is not None else ""
    lines = [ln.strip() for ln in body.splitlines() if ln.strip() and not ln.lstrip().startswith(">")]
    code_match = re.search(r"\[RC (\d{4,8})\]", subject) or re.search(r"\b(?:RC|code)\s*:?\s*(\d{4,8})\b", body)
    first = lines[0] if lines else ""
    try:
        answer, code, text = parse_reply(first)
    except ReplyRefused:
        if not code_match:
            raise ReplyRefused("no roll-call code in the subject or body, e.g. [RC 4821] or SAFE 4821") from None
        word = first.split()[0].upper().strip(".,!:") if first else ""
        if word not in KEYWORDS:
            raise ReplyRefused("no answer found: the first line should say SAFE, HELP or OUT") from None
        answer, code, text = KEYWORDS[word], code_match[1], first[len(word):].strip(" ,.:-")
    now = now or timezone.now()
    with transaction.atomic():
        p = _open_participant(code, sites)
        if not p.person.email or p.person.email.lower() != sender:
            raise ReplyRefused(f"wrong person: code {code} does not belong to {sender}")
        return _record(p, answer, Channel.EMAIL, now, text, sender)


def answer_at_kiosk(rc: RollCall, code: str, answer: str, by: str, *, text: str = "",
                    now: dt.datetime | None = None) -> RollCallAnswer:
    """An answer given at the muster-point kiosk: the person types their code, the warden's login is kept."""
    if answer not in Answer.values:
        raise ReplyRefused(f"unknown answer {answer!r}: safe, need_help or not_on_site")
    now = now or timezone.now()
    with transaction.atomic():
        p = rc.participants.select_related("person", "roll_call__site", "roll_call__crisis").filter(
            code=code.strip()).first()
        if p is None:
            raise ReplyRefused(f"unknown code {code.strip() or '(empty)'} for this roll call")
        return _record(p, answer, Channel.KIOSK, now, text, f"kiosk ({by})")


# ---------------------------------------------------------------- runbooks


def run_progress(run: RunbookRun, now: dt.datetime | None = None) -> dict:
    """Steps with their completion, whether each is overdue, and the counts."""
    now = now or timezone.now()
    done = {c.step_id: c for c in run.completions.all()}
    steps = []
    for step in run.runbook.steps.select_related("owner_team"):
        due = run.started + dt.timedelta(minutes=step.due_minutes)
        completion = done.get(step.pk)
        steps.append({"step": step, "due": due, "completion": completion,
                      "overdue": completion is None and now > due,
                      "late": completion is not None and completion.time > due})
    return {"run": run, "steps": steps, "done": len(done), "total": len(steps),
            "overdue": sum(s["overdue"] for s in steps)}


def complete_step(run: RunbookRun, step: RunbookStep, by: str, *, note: str = "", photo: bytes | None = None,
                  photo_type: str = "", now: dt.datetime | None = None) -> StepCompletion:
    """Mark a step done with a note and optionally a photo (hashed, kept, and referenced in the ledger)."""
    if step.runbook_id != run.runbook_id:
        raise ValueError("that step belongs to another runbook")
    if run.completions.filter(step=step).exists():
        raise ValueError(f"step {step.order} is already done")
    if step.photo_required and not photo:
        raise ValueError(f"step {step.order} needs a photo")
    if photo and len(photo) > MAX_PHOTO_BYTES:
        raise ValueError(f"the photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB")
    if photo and not photo_type.startswith("image/"):
        raise ValueError("the photo must be an image")
    now = now or timezone.now()
    digest = hashlib.sha256(photo).hexdigest() if photo else ""
    with transaction.atomic():
        completion = StepCompletion.objects.create(run=run, step=step, time=now, by=by, note=note,
                                                   photo=photo or None, photo_type=photo_type if photo else "",
                                                   photo_sha256=digest)
        body = {"crisis": run.crisis.uid, "runbook": run.runbook.slug, "step": step.order, "title": step.title,
                "by": by, "note": note, "due": run.started + dt.timedelta(minutes=step.due_minutes)}
        if photo:
            from linewatch.evidence.records import attach_blob

            body["photos"] = [{"sha256": attach_blob(photo, photo_type), "media_type": photo_type}]
        ledger(run.runbook.site, "runbook.step", body, at=now)
    return completion
