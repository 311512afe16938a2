"""Notifications climb the contact ladder: a failed channel falls back to the next, and a message
nobody acknowledges moves on after its window. Every attempt is recorded. A real SMTP relay
(aiosmtpd) receives the e-mail."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from django.utils import timezone

from linewatch.core.models import Team
from linewatch.detect.alerts import Detection, record_alert
from linewatch.detect.cases import acknowledge
from linewatch.events.schema import Event, EventClass, SurveillanceActivity, event_uid
from linewatch.response.models import ContactPath, DeliveryAttempt, Notification
from linewatch.response.notify import dispatch_due


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_relay():
    """A local SMTP relay that records what it receives."""
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


def camera_offline(n: int = 0) -> Event:
    return Event(uid=event_uid("cam", str(n)), time=1_780_000_000_000 + n, source="test", site="alpha",
                 class_uid=EventClass.SURVEILLANCE_DEVICE, activity_id=SurveillanceActivity.OFFLINE,
                 attrs={"device.ip": "10.1.4.50"})


@pytest.mark.django_db(transaction=True)
def test_a_failed_channel_falls_back_to_the_next_rung_and_every_attempt_is_kept(alpha_beta, smtp_relay):
    port, received = smtp_relay
    security = Team.objects.get(slug="alpha-sec")
    dead = free_port()  # nothing listens there: the webhook fails
    ContactPath.objects.create(team=security, priority=1, url=f"json://127.0.0.1:{dead}/hook", label="siren webhook")
    ContactPath.objects.create(team=security, priority=2, label="team mail",
                               url=f"mailto://127.0.0.1:{port}?from=linewatch@alpha.example&to=sec@alpha.example"
                                   "&mode=insecure")
    record_alert(Detection("r1", "Camera offline or tampered", "medium", events=[camera_offline()]))
    assert dispatch_due() == 2
    attempts = list(DeliveryAttempt.objects.order_by("id").values_list("rung", "channel", "outcome"))
    assert attempts == [(0, "json", "failed"), (1, "mailto", "accepted")]
    assert len(received) == 1 and received[0].rcpt_tos == ["sec@alpha.example"]
    assert b"Camera offline or tampered" in received[0].content


@pytest.mark.django_db(transaction=True)
def test_no_acknowledgement_in_time_moves_to_the_next_rung_and_acknowledging_stops_it(
        alpha_beta, smtp_relay, role_users):
    port, received = smtp_relay
    security = Team.objects.get(slug="alpha-sec")
    for priority, who in ((1, "duty"), (2, "manager")):
        ContactPath.objects.create(team=security, priority=priority, label=who,
                                   url=f"mailto://127.0.0.1:{port}?from=lw@alpha.example&to={who}@alpha.example"
                                       "&mode=insecure")
    alert, _ = record_alert(Detection("r2", "Camera offline or tampered", "medium", events=[camera_offline(1)]))
    now = timezone.now()
    assert dispatch_due(now) == 1
    assert dispatch_due(now + dt.timedelta(seconds=10)) == 0  # inside the acknowledgement window
    later = now + dt.timedelta(seconds=Notification.objects.get().ack_window_seconds + 1)
    assert dispatch_due(later) == 1
    assert [e.rcpt_tos for e in received] == [["duty@alpha.example"], ["manager@alpha.example"]]
    acknowledge(alert, role_users["analyst"])
    assert dispatch_due(later + dt.timedelta(hours=1)) == 0
    assert Notification.objects.get().status == "acknowledged"


@pytest.mark.django_db(transaction=True)
def test_a_delivery_report_is_a_receipt_and_a_failure_report_fires_the_next_rung(alpha_beta, smtp_relay, client):
    from linewatch.core import accounts
    from linewatch.response.models import Receipt

    port, received = smtp_relay
    security = Team.objects.get(slug="alpha-sec")
    for priority, who in ((1, "sms-gateway"), (2, "manager")):
        ContactPath.objects.create(team=security, priority=priority, label=who,
                                   url=f"mailto://127.0.0.1:{port}?from=lw@alpha.example&to={who}@alpha.example"
                                       "&mode=insecure")
    record_alert(Detection("r3", "Camera offline or tampered", "medium", events=[camera_offline(2)]))
    now = timezone.now()
    assert dispatch_due(now) == 1
    message = Notification.objects.get()
    ref = f"LW-{message.pk}"
    assert f"[{ref}]".encode() in received[0].content  # the reference a gateway quotes back
    gateway = accounts.create_user("gateway", "not-for-people-1", "sensor", sites=["alpha"])
    token = accounts.create_token(gateway, "dlr")

    def report(body: dict):
        return client.post("/api/v1/notifications/receipts", body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")

    assert report({"ref": ref, "status": "DELIVERED", "source": "sms gateway"}).status_code == 200
    assert list(Receipt.objects.values_list("kind", flat=True)) == ["transport", "delivered"]
    # refused with the reason, nothing changes
    for bad, reason in (({"ref": "LW-999999", "status": "delivered"}, "no message LW-999999"),
                        ({"ref": "ABC", "status": "delivered"}, "not one of ours"),
                        ({"ref": ref, "status": "maybe"}, "status 'maybe'")):
        answer = report(bad)
        assert answer.status_code == 400 and reason in answer.content.decode()
    assert Receipt.objects.count() == 2 and DeliveryAttempt.objects.count() == 1
    # the gateway reports the SMS undeliverable: the next rung fires now, not after the acknowledgement window
    assert report({"ref": ref, "status": "undelivered", "source": "sms gateway"}).status_code == 200
    assert dispatch_due(now + dt.timedelta(seconds=5)) == 1
    attempts = list(DeliveryAttempt.objects.order_by("id").values_list("rung", "outcome"))
    assert attempts == [(0, "accepted"), (0, "failed"), (1, "accepted")]
    assert received[-1].rcpt_tos == ["manager@alpha.example"]
