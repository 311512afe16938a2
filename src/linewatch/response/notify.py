"""Notifications with fallback: each message climbs its recipient's ladder of contact paths; the
next rung fires when a send fails *or* no acknowledgement arrives within the window. Every attempt
is recorded with what the channel said. The outbox is a table, so nothing is lost on a restart.

Channels are Apprise URLs (email through a local SMTP relay, webhooks, MQTT for sirens and
displays, ntfy, Matrix, Teams/Slack/Mattermost, SMS gateways …): one library for all of them.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from django.db import transaction
from django.utils import timezone

from linewatch.core.models import Team
from linewatch.detect.models import Alert
from linewatch.response.models import ContactPath, DeliveryAttempt, Notification, NotificationStatus

ACK_WINDOW_SECONDS = int(os.environ.get("LINEWATCH_ACK_WINDOW", "300"))


def ladder_of(team: Team) -> list[str]:
    """The team's contact paths in order, then its lead's; a team e-mail through the site relay
    (`LINEWATCH_SMTP_RELAY=host:port`) when nothing else is configured."""
    urls = list(ContactPath.objects.filter(team=team).order_by("priority").values_list("url", flat=True))
    lead = team.memberships.filter(is_lead=True).select_related("person").first()
    if lead:
        urls += ContactPath.objects.filter(person=lead.person).order_by("priority").values_list("url", flat=True)
    relay = os.environ.get("LINEWATCH_SMTP_RELAY")
    if not urls and relay and team.email:
        sender = os.environ.get("LINEWATCH_SMTP_FROM", "linewatch@localhost")
        urls.append(f"mailto://{relay}?from={sender}&to={team.email}&mode=insecure")
    return urls


def redact(url: str) -> str:
    """A URL fit for the log: no user, no password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def queue_for_alert(alert: Alert, team: Team, *, now: dt.datetime | None = None, exercise: bool = False):
    """Put a message about the alert in the outbox for the team (nothing if it has no contact path)."""
    ladder = ladder_of(team)
    if not ladder:
        return None
    consequence = alert.finding.get("unmapped", {}).get("consequence", {})
    lines = [li for li in consequence.get("lines", []) if li.get("status") in ("stopped", "degraded")]
    stake = "; ".join(f"{li['line']} {li['status']} ({li['cost_per_hour']:,.0f}/h)" for li in lines)
    stake = stake or "no line at stake"
    subject = f"[{'EXERCISE ' if exercise else ''}Linewatch {alert.site_slug}] {alert.title}"
    body = (f"{alert.title}\nSite: {alert.site_slug}\nAsset: {alert.asset.name if alert.asset_id else 'unknown'}\n"
            f"At stake: {stake}\nAlert: /alerts/{alert.uid}/\nAcknowledge it to stop the escalation.")
    return Notification.objects.create(alert=alert, team=team, subject=subject[:300], body=body, ladder=ladder,
                                       next_attempt=now or timezone.now(), ack_window_seconds=ACK_WINDOW_SECONDS,
                                       exercise=exercise)


def apprise_send(url: str, subject: str, body: str) -> tuple[bool, str]:
    """Send through one channel; (the transport accepted it, what it said)."""
    import apprise

    sender = apprise.Apprise()
    if not sender.add(url):
        return False, "not a usable Apprise URL"
    result = sender.notify(title=subject, body=body)
    return bool(result), "accepted by the transport" if result else "the channel refused or could not be reached"


Sender = Callable[[str, str, str], tuple[bool, str]]


def dispatch_due(now: dt.datetime | None = None, send: Sender = apprise_send) -> int:
    """Send every message whose next rung is due; return how many attempts were made."""
    now = now or timezone.now()
    attempts = 0
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
            url = n.ladder[n.rung]
        # The send happens outside the transaction: a slow channel must not hold the outbox.
        ok, detail = send(url, n.subject, n.body)
        attempts += 1
        with transaction.atomic():
            DeliveryAttempt.objects.create(notification=n, time=now, rung=n.rung, channel=urlsplit(url).scheme,
                                           target=redact(url), outcome="accepted" if ok else "failed", detail=detail)
            if ok:
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
    DeliveryAttempt.objects.create(notification=n, time=now, rung=n.rung, channel="ack", target="",
                                   outcome="acknowledged", detail=why)
