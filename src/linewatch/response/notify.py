"""Notifications with fallback: each message climbs its recipient's ladder of contact paths; the
next rung fires when a send fails *or* no acknowledgement arrives within the window. Every attempt
is recorded with what the channel said. The outbox is a table, so nothing is lost on a restart.

Channels are Apprise URLs (email through a local SMTP relay, webhooks, ntfy, Matrix,
Teams/Slack/Mattermost, SMS gateways …): one library for all of them. `mqtt://host:port/topic` goes
straight to the site's broker with paho-mqtt (QoS 1, retained) for sirens, stack lights and displays.

Around the ladder: texts come from templates (`messages.py`), quiet hours hold non-critical
messages on a path until the quiet period ends, a flood guard collects automatic messages beyond
`LINEWATCH_FLOOD_MAX` per team and window into one digest, and every receipt (transport accepted,
delivered, acknowledged, answered) is kept per attempt.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import zoneinfo
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit, urlunsplit

from django.db import transaction
from django.utils import timezone

from linewatch.core.models import Person, Team
from linewatch.detect.models import Alert
from linewatch.response import messages
from linewatch.response.models import (
    ContactPath,
    DeliveryAttempt,
    Notification,
    NotificationStatus,
    Receipt,
    ReceiptKind,
)

ACK_WINDOW_SECONDS = int(os.environ.get("LINEWATCH_ACK_WINDOW", "300"))
FLOOD_MAX = int(os.environ.get("LINEWATCH_FLOOD_MAX", "10"))  # automatic messages per team and window
FLOOD_WINDOW_SECONDS = int(os.environ.get("LINEWATCH_FLOOD_WINDOW", "600"))
CRITICAL_SEVERITY = 4  # OCSF high and above ignore quiet hours

# A ladder entry is a URL, or {"url", "quiet": ["22:00", "06:00"], "tz"} for a path with quiet hours.
Rung = str | dict


def _rung(path: ContactPath, tz: str) -> Rung:
    if path.quiet_start is None or path.quiet_end is None:
        return path.url
    return {"url": path.url, "quiet": [path.quiet_start.strftime("%H:%M"), path.quiet_end.strftime("%H:%M")],
            "tz": tz}


def _relay_mail(address: str) -> str | None:
    relay = os.environ.get("LINEWATCH_SMTP_RELAY")
    if not relay or not address:
        return None
    sender = os.environ.get("LINEWATCH_SMTP_FROM", "linewatch@localhost")
    return f"mailto://{relay}?from={sender}&to={address}&mode=insecure"


def ladder_of(team: Team) -> list[Rung]:
    """The team's contact paths in order, then its lead's; a team e-mail through the site relay
    (`LINEWATCH_SMTP_RELAY=host:port`) when nothing else is configured."""
    tz = team.site.timezone if team.site_id else "UTC"
    rungs: list[Rung] = [_rung(p, tz) for p in ContactPath.objects.filter(team=team).order_by("priority")]
    lead = team.memberships.filter(is_lead=True).select_related("person").first()
    if lead:
        rungs += [_rung(p, tz) for p in ContactPath.objects.filter(person=lead.person).order_by("priority")]
    if not rungs and (mail := _relay_mail(team.email)):
        rungs.append(mail)
    return rungs


def ladder_of_person(person: Person, tz: str = "UTC") -> list[Rung]:
    """A person's own contact paths in order; their e-mail through the site relay when they have none."""
    rungs: list[Rung] = [_rung(p, tz) for p in ContactPath.objects.filter(person=person).order_by("priority")]
    if not rungs and (mail := _relay_mail(person.email)):
        rungs.append(mail)
    return rungs


def rung_url(rung: Rung) -> str:
    return rung["url"] if isinstance(rung, dict) else rung


def quiet_until(rung: Rung, now: dt.datetime) -> dt.datetime | None:
    """When the rung's quiet hours end, if `now` falls inside them (periods may span midnight)."""
    if not isinstance(rung, dict) or not rung.get("quiet"):
        return None
    tz = zoneinfo.ZoneInfo(rung.get("tz") or "UTC")
    local = now.astimezone(tz)
    start, end = (dt.time.fromisoformat(t) for t in rung["quiet"])
    t = local.time()
    inside = (start <= t < end) if start <= end else (t >= start or t < end)
    if not inside:
        return None
    end_day = local.date() if t < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(end_day, end, tzinfo=tz).astimezone(dt.UTC)


def redact(url: str) -> str:
    """A URL fit for the log: no user, no password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def queue_for_alert(alert: Alert, team: Team, *, now: dt.datetime | None = None, exercise: bool = False):
    """Put a message about the alert in the outbox for the team (nothing if it has no contact path).
    Alerts are automatic triggers: beyond the flood guard's limit they go into the team's digest."""
    ladder = ladder_of(team)
    if not ladder:
        return None
    now = now or timezone.now()
    consequence = alert.finding.get("unmapped", {}).get("consequence", {})
    lines = [li for li in consequence.get("lines", []) if li.get("status") in ("stopped", "degraded")]
    stake = "; ".join(f"{li['line']} {li['status']} ({li['cost_per_hour']:,.0f}/h)" for li in lines)
    stake = stake or "no line at stake"
    subject, body = messages.render("alert", {
        "site": alert.site_slug, "title": alert.title, "stake": stake, "link": f"/alerts/{alert.uid}/",
        "asset": alert.asset.name if alert.asset_id else "unknown", "severity": alert.severity_id,
    }, exercise=exercise)
    critical = alert.severity_id >= CRITICAL_SEVERITY or alert.safety_critical
    if flooded(team, now):
        return hold_in_digest(team, f"{alert.time:%H:%M} {alert.site_slug}: {alert.title} ({stake})", ladder, now)
    return Notification.objects.create(alert=alert, team=team, subject=subject[:300], body=body, ladder=ladder,
                                       next_attempt=now, ack_window_seconds=ACK_WINDOW_SECONDS,
                                       exercise=exercise, critical=critical, automatic=True)


def queue_message(subject: str, body: str, ladder: list[Rung], *, team: Team | None = None,
                  person: Person | None = None, now: dt.datetime | None = None, exercise: bool = False,
                  critical: bool = True, ack_window_seconds: int = ACK_WINDOW_SECONDS) -> Notification | None:
    """Put any message (crisis, roll call) in the outbox for a team or a person; None without a ladder."""
    if not ladder:
        return None
    subject, body = messages.mark_exercise(subject, body, exercise)
    return Notification.objects.create(team=team, person=person, subject=subject[:300], body=body, ladder=ladder,
                                       next_attempt=now or timezone.now(), ack_window_seconds=ack_window_seconds,
                                       exercise=exercise, critical=critical)


def flooded(team: Team, now: dt.datetime) -> bool:
    """Has the team had FLOOD_MAX automatic messages within the window already?"""
    since = now - dt.timedelta(seconds=FLOOD_WINDOW_SECONDS)
    return Notification.objects.filter(team=team, automatic=True, digest=False,
                                       created__gte=since).count() >= FLOOD_MAX


def hold_in_digest(team: Team, item: str, ladder: list[Rung], now: dt.datetime) -> Notification:
    """Add one held message to the team's pending digest, sent once when the window ends."""
    with transaction.atomic():
        digest = (Notification.objects.select_for_update().filter(team=team, digest=True,
                                                                   status=NotificationStatus.PENDING, rung=0)
                  .order_by("-id").first())
        if digest is None:
            digest = Notification.objects.create(team=team, subject="", body="", ladder=ladder, digest=True,
                                                 automatic=True, critical=False, held=0,
                                                 next_attempt=now + dt.timedelta(seconds=FLOOD_WINDOW_SECONDS),
                                                 ack_window_seconds=ACK_WINDOW_SECONDS)
        items = [line for line in digest.body.split("\n") if line.startswith("- ")] + [f"- {item}"]
        digest.held = len(items)
        digest.subject, digest.body = messages.render("digest", {
            "count": digest.held, "limit": FLOOD_MAX, "team": team.name, "window": FLOOD_WINDOW_SECONDS // 60,
            "items": "\n".join(items)})
        digest.save(update_fields=["held", "subject", "body"])
    return digest


def record_receipt(notification: Notification, kind: str, source: str, *, now: dt.datetime | None = None,
                   attempt: DeliveryAttempt | None = None) -> Receipt:
    """Keep one receipt; tied to the last accepted attempt when none is given."""
    if attempt is None:
        attempt = notification.attempts.filter(outcome="accepted").order_by("-id").first()
    return Receipt.objects.create(notification=notification, attempt=attempt, kind=kind, source=source[:200],
                                  time=now or timezone.now())


REFERENCE = re.compile(r"\[(LW-\d+)\]\s*$")


def reference(n: Notification) -> str:
    """The message's reference, sent at the end of its subject ([LW-123]) and in an MQTT payload's `ref`: a
    gateway or display that reports delivery quotes it (`record_delivery`)."""
    return f"LW-{n.pk}"


class DeliveryReportRefused(ValueError):
    """A delivery report that names no message we sent, or says something we do not understand."""


DELIVERED_WORDS = {"delivered", "displayed", "read", "played"}
FAILED_WORDS = {"failed", "undelivered", "rejected", "expired"}


def record_delivery(ref: str, status: str, source: str, now: dt.datetime | None = None) -> Receipt | None:
    """What a channel reports after accepting a message (an SMS gateway's delivery report, a display or siren
    confirming it played it). Delivered: a `delivered` receipt. Failed: the attempt counts as failed and the
    message moves to its next rung now — the fallback fires on the channel's word, not only on silence."""
    now = now or timezone.now()
    match = re.fullmatch(r"LW-(\d+)", ref.strip())
    if not match:
        raise DeliveryReportRefused(f"reference {ref!r} is not one of ours (LW-<number>)")
    word = status.strip().lower()
    if word not in DELIVERED_WORDS | FAILED_WORDS:
        raise DeliveryReportRefused(f"status {status!r}: one of {', '.join(sorted(DELIVERED_WORDS | FAILED_WORDS))}")
    with transaction.atomic():
        n = Notification.objects.select_for_update(of=("self",)).filter(pk=int(match.group(1))).first()
        if n is None:
            raise DeliveryReportRefused(f"no message {ref}")
        last = n.attempts.filter(outcome="accepted").order_by("-id").first()
        if last is None:
            raise DeliveryReportRefused(f"message {ref} was never accepted by a channel")
        if word in DELIVERED_WORDS:
            return Receipt.objects.create(notification=n, attempt=last, kind=ReceiptKind.DELIVERED, time=now,
                                          source=f"{source}: {word}"[:200])
        DeliveryAttempt.objects.create(notification=n, time=now, rung=last.rung, channel=last.channel,
                                       target=last.target, outcome="failed",
                                       detail=f"delivery report from {source}: {word}"[:500])
        if n.status == NotificationStatus.SENT and n.rung == last.rung:
            n.status, n.rung, n.next_attempt = NotificationStatus.PENDING, n.rung + 1, now
            n.save(update_fields=["status", "rung", "next_attempt"])
    return None


def mqtt_send(url: str, subject: str, body: str) -> tuple[bool, str]:
    """Publish to a site broker (`mqtt://[user:pass@]host:port/topic?retain=yes`) with QoS 1: the
    broker's PUBACK is the transport receipt. The payload is JSON a display or siren controller
    reads: {"subject", "body", "exercise"}."""
    import paho.mqtt.client as mqtt

    parts = urlsplit(url)
    topic = parts.path.lstrip("/")
    if not topic or not parts.hostname:
        return False, "an MQTT URL needs a host and a topic: mqtt://host:1883/site/alert"
    retain = parse_qs(parts.query).get("retain", ["yes"])[0].lower() in ("yes", "1", "true")
    ref = REFERENCE.search(subject)
    payload = json.dumps({"subject": REFERENCE.sub("", subject).rstrip(), "body": body,
                          "exercise": subject.startswith(messages.EXERCISE_MARK), "ref": ref.group(1) if ref else ""},
                         ensure_ascii=False)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv311)
    if parts.username:
        client.username_pw_set(parts.username, parts.password)
    if parts.scheme == "mqtts":
        client.tls_set()
    try:
        client.connect(parts.hostname, parts.port or (8883 if parts.scheme == "mqtts" else 1883), keepalive=10)
        client.loop_start()
        info = client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout=5)
        ok = info.is_published()
    except (OSError, ValueError, RuntimeError) as exc:
        return False, f"broker unreachable: {exc}"
    finally:
        client.loop_stop()
        client.disconnect()
    return ok, "broker acknowledged (PUBACK, QoS 1)" if ok else "no PUBACK from the broker within 5 s"


def apprise_send(url: str, subject: str, body: str) -> tuple[bool, str]:
    """Send through one channel; (the transport accepted it, what it said)."""
    import apprise

    if urlsplit(url).scheme in ("mqtt", "mqtts"):
        return mqtt_send(url, subject, body)

    sender = apprise.Apprise()
    if not sender.add(url):
        return False, "not a usable Apprise URL"
    result = sender.notify(title=subject, body=body)
    return bool(result), "accepted by the transport" if result else "the channel refused or could not be reached"


Sender = Callable[[str, str, str], tuple[bool, str]]

# Jobs that queue messages on the dispatcher's beat (roll-call reminder waves register here from
# linewatch.resilience), run before each pass so what they queue goes out in the same pass.
BEFORE_DISPATCH: list[Callable[[dt.datetime], object]] = []


def dispatch_due(now: dt.datetime | None = None, send: Sender = apprise_send) -> int:
    """Send every message whose next rung is due; return how many attempts were made."""
    now = now or timezone.now()
    attempts = 0
    for job in BEFORE_DISPATCH:
        job(now)
    # Alerts acknowledged or closed since their message went out: stop the ladder, keep the receipt
    # (with the time the alert changed, not the time this pass noticed).
    answered = Notification.objects.filter(status__in=[NotificationStatus.PENDING, NotificationStatus.SENT],
                                           alert__isnull=False).exclude(alert__status="new").select_related("alert")
    for n in list(answered[:500]):
        with transaction.atomic():
            _acknowledged(n, n.alert.status_changed or now, f"alert {n.alert.status}")
    due = Notification.objects.filter(
        status__in=[NotificationStatus.PENDING, NotificationStatus.SENT], next_attempt__lte=now
    ).values_list("id", flat=True)
    for notification_id in list(due[:200]):
        attempts += _advance(notification_id, now, send)
    return attempts


def _advance(notification_id: int, now: dt.datetime, send: Callable[[str, str, str], tuple[bool, str]]) -> int:
    """Try the message's due rung; on a failure go straight on to the next, until one channel
    accepts it or the ladder is exhausted. Returns the attempts made."""
    attempts = 0
    while True:
        with transaction.atomic():
            n = Notification.objects.select_for_update(of=("self",)).select_related("alert").get(id=notification_id)
            if n.alert_id and n.alert.status != "new":
                _acknowledged(n, now, f"alert {n.alert.status}")
                return attempts
            if n.status == NotificationStatus.SENT:
                n.rung += 1  # sent, but nobody acknowledged within the window: next rung
                n.status = NotificationStatus.PENDING
            if n.rung >= len(n.ladder):
                n.status = NotificationStatus.EXHAUSTED
                n.save(update_fields=["status", "rung"])
                return attempts
            rung = n.ladder[n.rung]
            url = rung_url(rung)
            if not n.critical and (until := quiet_until(rung, now)):
                # Quiet hours: hold this rung until they end (one record, not one per dispatcher pass).
                DeliveryAttempt.objects.create(notification=n, time=now, rung=n.rung, channel=urlsplit(url).scheme,
                                               target=redact(url), outcome="deferred",
                                               detail=f"quiet hours {rung['quiet'][0]}–{rung['quiet'][1]} "
                                                      f"({rung.get('tz') or 'UTC'}); not critical, held until "
                                                      f"{until:%Y-%m-%d %H:%M} UTC")
                n.next_attempt = until
                n.save(update_fields=["status", "rung", "next_attempt"])
                return attempts
        # The send happens outside the transaction: a slow channel must not hold the outbox.
        ok, detail = send(url, f"{n.subject} [{reference(n)}]", n.body)
        attempts += 1
        with transaction.atomic():
            attempt = DeliveryAttempt.objects.create(notification=n, time=now, rung=n.rung,
                                                     channel=urlsplit(url).scheme, target=redact(url),
                                                     outcome="accepted" if ok else "failed", detail=detail)
            if ok:
                Receipt.objects.create(notification=n, attempt=attempt, kind=ReceiptKind.TRANSPORT, time=now,
                                       source=f"{urlsplit(url).scheme}: {detail}"[:200])
                n.status = NotificationStatus.SENT
                n.next_attempt = now + dt.timedelta(seconds=n.ack_window_seconds)
            else:
                n.status = NotificationStatus.PENDING
                n.rung += 1
                n.next_attempt = now
            n.save(update_fields=["status", "rung", "next_attempt"])
        if ok:
            return attempts


def _acknowledged(n: Notification, now: dt.datetime, why: str) -> None:
    n.status = NotificationStatus.ACKNOWLEDGED
    n.save(update_fields=["status"])
    last = n.attempts.filter(outcome="accepted").order_by("-id").first()
    DeliveryAttempt.objects.create(notification=n, time=now, rung=n.rung, channel="ack", target="",
                                   outcome="acknowledged", detail=why)
    Receipt.objects.create(notification=n, attempt=last, kind=ReceiptKind.ACKNOWLEDGED, time=now, source=why[:200])


def acknowledge_notification(n: Notification, kind: str, source: str, now: dt.datetime | None = None) -> None:
    """A person acknowledged or answered a message that is not about an alert (crisis, roll call):
    keep the receipt and stop its ladder."""
    now = now or timezone.now()
    with transaction.atomic():
        n = Notification.objects.select_for_update().get(pk=n.pk)
        record_receipt(n, kind, source, now=now)
        if n.status in (NotificationStatus.PENDING, NotificationStatus.SENT):
            n.status = NotificationStatus.ACKNOWLEDGED
            n.save(update_fields=["status"])
