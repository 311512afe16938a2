"""Around the ladder: templates with variables, quiet hours for non-critical messages, the flood
guard on automatic triggers, receipts per attempt, exercise marking, and MQTT for sirens and
displays on the machine's Mosquitto."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import uuid

import pytest

from linewatch.core.models import Team
from linewatch.detect.alerts import Detection, record_alert
from linewatch.detect.cases import acknowledge
from linewatch.events.schema import Event, EventClass, SurveillanceActivity, event_uid
from linewatch.response import notify
from linewatch.response.models import ContactPath, DeliveryAttempt, MessageTemplate, Notification, Receipt

from .test_notify import smtp_relay  # noqa: F401  (fixture)

T0 = dt.datetime(2026, 11, 25, 23, 30, tzinfo=dt.UTC)  # 00:30 in Bremen (Europe/Berlin)


def camera(n: int) -> Event:
    return Event(uid=event_uid("extras-cam", str(n)), time=1_780_000_000_000 + n, source="test", site="alpha",
                 class_uid=EventClass.SURVEILLANCE_DEVICE, activity_id=SurveillanceActivity.OFFLINE,
                 attrs={"device.ip": "10.1.4.50"})


def ok_sender(log: list):
    def send(url: str, subject: str, body: str):
        log.append((url, subject, body))
        return True, "accepted by the transport"
    return send


@pytest.mark.django_db
def test_templates_fill_variables_and_an_admin_override_wins(alpha_beta):
    ContactPath.objects.create(team=Team.objects.get(slug="alpha-sec"), priority=1, url="json://127.0.0.1:9/x")
    MessageTemplate.objects.create(slug="alert", subject="$site ALERT: $title ($unknown)",
                                   body="Stake=$stake; __import__('os') stays text")
    alert, _ = record_alert(Detection("tpl", "Camera offline or tampered", "medium", events=[camera(1)]))
    n = Notification.objects.get(alert=alert)
    assert n.subject == "alpha ALERT: Camera offline or tampered ($unknown)"
    assert n.body.startswith("Stake=no line at stake;")


@pytest.mark.django_db
def test_quiet_hours_hold_non_critical_messages_but_not_critical_ones(alpha_beta):
    security = Team.objects.get(slug="alpha-sec")
    ContactPath.objects.create(team=security, priority=1, url="json://127.0.0.1:9/pager",
                               quiet_start=dt.time(22, 0), quiet_end=dt.time(6, 0))
    sent: list = []
    minor, _ = record_alert(Detection("quiet-1", "Camera offline or tampered", "low", events=[camera(2)]))
    n = Notification.objects.get(alert=minor)
    Notification.objects.filter(pk=n.pk).update(next_attempt=T0)
    assert not n.critical
    assert notify.dispatch_due(T0, send=ok_sender(sent)) == 0 and sent == []
    held = DeliveryAttempt.objects.get(notification=n)
    assert held.outcome == "deferred" and "quiet hours 22:00–06:00 (Europe/Berlin)" in held.detail
    n.refresh_from_db()
    assert n.next_attempt == dt.datetime(2026, 11, 26, 5, 0, tzinfo=dt.UTC)  # 06:00 Berlin
    assert notify.dispatch_due(T0 + dt.timedelta(hours=1), send=ok_sender(sent)) == 0  # held, no second record
    assert notify.dispatch_due(n.next_attempt, send=ok_sender(sent)) == 1 and len(sent) == 1
    assert DeliveryAttempt.objects.filter(notification=n).count() == 2
    urgent, _ = record_alert(Detection("quiet-2", "Camera offline or tampered", "critical", events=[camera(3)]))
    u = Notification.objects.get(alert=urgent)
    assert u.critical
    Notification.objects.filter(pk=u.pk).update(next_attempt=T0)
    assert notify.dispatch_due(T0, send=ok_sender(sent)) == 1  # wakes people up


@pytest.mark.django_db
def test_flood_guard_collects_automatic_messages_into_one_digest(alpha_beta, monkeypatch):
    monkeypatch.setattr(notify, "FLOOD_MAX", 3)
    ContactPath.objects.create(team=Team.objects.get(slug="alpha-sec"), priority=1, url="json://127.0.0.1:9/x")
    for i in range(7):
        record_alert(Detection(f"flood-{i}", f"Camera offline {i}", "medium", events=[camera(100 + i)]))
    singles = Notification.objects.filter(team__slug="alpha-sec", digest=False)
    digest = Notification.objects.get(team__slug="alpha-sec", digest=True)
    assert singles.count() == 3 and digest.held == 4
    assert "4 automatic messages held" in digest.subject and digest.body.count("\n- ") == 4
    assert "Camera offline 6" in digest.body
    sent: list = []
    assert notify.dispatch_due(digest.created, send=ok_sender(sent)) == 3  # the digest waits for the window
    later = digest.next_attempt
    assert notify.dispatch_due(later, send=ok_sender(sent)) >= 1
    assert any("held by the flood guard" in s for _, s, _ in sent)


@pytest.mark.django_db
def test_receipts_transport_then_acknowledged_are_kept_per_attempt(alpha_beta, role_users):
    ContactPath.objects.create(team=Team.objects.get(slug="alpha-sec"), priority=1, url="json://127.0.0.1:9/x")
    alert, _ = record_alert(Detection("rcpt", "Camera offline or tampered", "medium", events=[camera(5)]))
    now = dt.datetime.now(dt.UTC)
    notify.dispatch_due(now, send=ok_sender([]))
    acknowledge(alert, role_users["analyst"])
    notify.dispatch_due(now + dt.timedelta(seconds=1), send=ok_sender([]))
    n = Notification.objects.get(alert=alert)
    receipts = list(Receipt.objects.filter(notification=n).values_list("kind", "attempt__outcome"))
    assert receipts == [("transport", "accepted"), ("acknowledged", "accepted")]


@pytest.mark.django_db
def test_exercise_messages_are_marked(alpha_beta):
    n = notify.queue_message("Roll call", "Are you safe?", ["json://127.0.0.1:9/x"], exercise=True)
    assert n.subject == "EXERCISE — Roll call" and n.body.startswith("EXERCISE — THIS IS A DRILL")
    assert n.body.rstrip().endswith("END OF DRILL MESSAGE")


def mosquitto_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_mqtt_channel_reaches_a_subscriber_on_mosquitto(alpha_beta):
    if not mosquitto_up():
        from tests.conftest import services_required

        if services_required():
            pytest.fail("Mosquitto is not reachable on 127.0.0.1:1883")
        pytest.skip("Mosquitto is not reachable on 127.0.0.1:1883")
    import paho.mqtt.client as mqtt

    topic = f"linewatch-test/{uuid.uuid4().hex}/stacklight"
    got: list = []
    ready, arrived = threading.Event(), threading.Event()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    sub.on_subscribe = lambda *a: ready.set()
    sub.on_message = lambda c, u, msg: (got.append(msg), arrived.set())
    sub.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
    sub.connect("127.0.0.1", 1883)
    sub.loop_start()
    try:
        assert ready.wait(5)
        ContactPath.objects.create(team=Team.objects.get(slug="alpha-sec"), priority=1, label="stack light",
                                   url=f"mqtt://127.0.0.1:1883/{topic}?retain=no")
        alert, _ = record_alert(Detection("mqtt", "Camera offline or tampered", "medium", events=[camera(9)]))
        assert notify.dispatch_due() == 1
        assert arrived.wait(5)
    finally:
        sub.loop_stop()
        sub.disconnect()
    payload = json.loads(got[0].payload)
    assert payload["subject"].endswith("Camera offline or tampered") and payload["exercise"] is False
    attempt = DeliveryAttempt.objects.get(notification__alert=alert)
    assert (attempt.channel, attempt.outcome) == ("mqtt", "accepted") and "PUBACK" in attempt.detail
    assert Receipt.objects.get(attempt=attempt).kind == "transport"


def test_an_unreachable_broker_is_a_failed_attempt():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ok, detail = notify.mqtt_send(f"mqtt://127.0.0.1:{port}/x", "s", "b")
    assert not ok and "unreachable" in detail
    assert notify.mqtt_send("mqtt://127.0.0.1:1883", "s", "b")[0] is False
