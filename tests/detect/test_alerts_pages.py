"""The analyst's pages: the alert list (whose problem, which line, what it costs), the alert page with
its handling forms and handoff log, cases with their timeline, the live stream and the home strip."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from linewatch.detect import views
from linewatch.detect.models import Alert, AlertNote, AlertStatus
from linewatch.events.schema import EventClass
from tests.detect.test_cases import CAMERA, badge, event, plc_download, raise_alert


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alerts(role_users):
    plc = raise_alert("lw-ot-001", [plc_download("pg-plc", 0, user="tom")], "PLC program download",
                      tags=("attack.ics", "attack.t0843"))
    camera = raise_alert("lw-phys-002", [event("pg-cam", 3, class_uid=EventClass.SURVEILLANCE_DEVICE, activity=2,
                                               device__ip=CAMERA)], "Camera tampered", level="medium")
    wms = raise_alert("lw-it-001", [event("pg-wms", 5, site="beta", dst_endpoint__ip="10.2.4.10")],
                      "Scan of the WMS", level="low")
    return {"plc": plc, "camera": camera, "wms": wms}


def page(client, user, url, status=200) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def rows(html: str) -> list[str]:
    body = html[html.index('<tbody id="alert-rows"'):]
    return re.findall(r'<tr id="alert-([0-9a-f]+)"', body[: body.index("</tbody>")])


def test_the_list_says_whose_problem_it_is_which_line_and_what_it_costs(client, role_users, alerts):
    html = page(client, role_users["analyst"], reverse("web:alerts"))
    assert set(rows(html)) == {a.uid for a in alerts.values()}
    assert "Owner team" in html and "Line · cost" in html
    plc_row = html[html.index(f'id="alert-{alerts["plc"].uid}"'):]
    plc_row = plc_row[: plc_row.index("</tr>")]
    assert "Alpha OT engineering" in plc_row  # the accountable team
    assert "Line 1 filling" in plc_row and "Stopped" in plc_row and "42,000 EUR/h" in plc_row
    assert "plc-line1" in plc_row and "sev sev-" in plc_row and "New" in plc_row
    cam_row = html[html.index(f'id="alert-{alerts["camera"].uid}"'):]
    assert "Alpha physical security" in cam_row[: cam_row.index("</tr>")]
    assert 'data-stream="/alerts/stream/?status=open&amp;since=' in html and "new EventSource" in html


def test_list_filters_and_scoping(client, role_users, alerts):
    analyst = role_users["analyst"]
    assert rows(page(client, analyst, reverse("web:alerts") + "?site=beta")) == [alerts["wms"].uid]
    assert rows(page(client, analyst, reverse("web:alerts") + "?team=alpha-sec")) == [alerts["camera"].uid]
    assert rows(page(client, analyst, reverse("web:alerts") + f"?severity_min={alerts['plc'].severity_id}")) == [
        alerts["plc"].uid]
    assert rows(page(client, analyst, reverse("web:alerts") + "?status=closed")) == []
    assert set(rows(page(client, role_users["engineer"], reverse("web:alerts")))) == {
        alerts["plc"].uid, alerts["camera"].uid}
    guard = page(client, role_users["guard"], reverse("web:alerts"))
    assert rows(guard) == [alerts["camera"].uid]
    assert "Line · cost" not in guard and "physical-security devices only" in guard
    page(client, role_users["sensor"], reverse("web:alerts"), 403)


def test_the_alert_page_shows_consequence_owner_evidence_and_forms(client, role_users, alerts):
    plc = alerts["plc"]
    html = page(client, role_users["engineer"], reverse("web:alert", args=[plc.uid]))
    consequence = html[html.index('id="consequence"'):]
    consequence = consequence[: consequence.index("</section>")]
    assert "Line 1 filling" in consequence and "42,000" in consequence and "Stopped" in consequence
    owner = html[html.index('id="owner"'):]
    owner = owner[: owner.index("</section>")]
    assert "Whose problem is this?" in owner and "Alpha OT engineering" in owner and "Accountable" in owner
    assert "Asset kind at the site" in owner  # the rule the answer came from
    assert "T0843" in html and "lw-ot-001" in html
    evidence = html[html.index('id="evidence"'):]
    assert "OT controller" in evidence and "Controller activity: program download" in evidence
    assert "10.1.11.10" in evidence and "by tom" in evidence
    assert html.count("csrfmiddlewaretoken") >= 4  # the handling forms (and the log-out form)
    for action in ("acknowledge", "assign", "close", "comment"):
        assert f'name="action" value="{action}"' in html
    assert 'value="team:alpha-ot"' in html and 'value="user:lead"' in html and 'value="user:guard"' not in html

    auditor = page(client, role_users["auditor"], reverse("web:alert", args=[plc.uid]))
    assert 'name="action"' not in auditor and "may read this alert but not handle it" in auditor
    guard = page(client, role_users["guard"], reverse("web:alert", args=[alerts["camera"].uid]))
    assert 'id="consequence"' not in guard and "Alpha physical security" in guard
    assert "Alpha IT" in guard[guard.index('id="owner"'):guard.index('id="handling"')]  # responsible for cameras
    page(client, role_users["guard"], reverse("web:alert", args=[plc.uid]), 404)
    page(client, role_users["engineer"], reverse("web:alert", args=[alerts["wms"].uid]), 404)


def test_acknowledge_assign_close_from_the_page_write_the_handoff_log(client, role_users, alerts):
    uid = alerts["plc"].uid
    url = reverse("web:alert", args=[uid])
    client.force_login(role_users["lead"])
    response = client.post(url, {"action": "acknowledge", "note": "on my way"})
    assert response.status_code == 302 and response["Location"].endswith("#handling")
    alert = Alert.objects.get(pk=uid)
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.assignee.username == "lead"
    assert client.post(url, {"action": "assign", "to": "team:alpha-ot", "note": "for OT"}).status_code == 302
    assert Alert.objects.get(pk=uid).assigned_team.slug == "alpha-ot"

    missing = client.post(url, {"action": "close", "note": ""})
    assert missing.status_code == 400 and "say why the alert is closed" in missing.content.decode()
    assert client.post(url, {"action": "close", "note": "authorised change"}).status_code == 302
    again = client.post(url, {"action": "close", "note": "twice"})
    assert again.status_code == 409 and "already closed" in again.content.decode()
    assert client.post(url, {"action": "explode"}).status_code == 400

    notes = list(AlertNote.objects.filter(alert_id=uid).exclude(via="routing").values_list(
        "author_name", "action", "to_status", "text", "via"))
    assert notes == [("lead", "acknowledge", "acknowledged", "on my way", "web"),
                     ("lead", "assign", "acknowledged", "for OT", "web"),
                     ("lead", "close", "closed", "authorised change", "web")]
    html = client.get(url).content.decode()
    log = html[html.index('id="log"'):]
    assert "on my way" in log and "authorised change" in log and "team:alpha-ot" in log
    assert "Reopen" in html  # a closed alert can be reopened


def test_handling_needs_the_capability_at_the_site_and_the_csrf_token(client, role_users, alerts):
    client.force_login(role_users["auditor"])
    assert client.post(reverse("web:alert", args=[alerts["plc"].uid]), {"action": "acknowledge"}).status_code == 403
    client.force_login(role_users["engineer"])
    assert client.post(reverse("web:alert", args=[alerts["wms"].uid]), {"action": "acknowledge"}).status_code == 404
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(role_users["analyst"])
    refused = browser.post(reverse("web:alert", args=[alerts["plc"].uid]), {"action": "acknowledge"})
    assert refused.status_code == 403
    assert Alert.objects.get(pk=alerts["plc"].uid).status == AlertStatus.NEW


def test_case_pages_draw_the_timeline(client, role_users, alerts):
    follow_up = raise_alert("lw-phys-001", [badge("pg-badge", 10, "tom")], "Badge denied")
    case_uid = alerts["plc"].case_id
    assert follow_up.case_id == case_uid
    listing = page(client, role_users["analyst"], reverse("web:cases"))
    assert reverse("web:case", args=[case_uid]) in listing and "plc-line1: PLC program download" in listing
    html = page(client, role_users["analyst"], reverse("web:case", args=[case_uid]))
    svg = html[html.index("<svg class=\"timeline\""): html.index("</svg>")]
    assert svg.count('class="pt pt-alert"') == 2 and svg.count('class="pt pt-event"') == 2
    for lane in ("Alerts", "Badge / physical", "OT controller"):
        assert f">{lane}</text>" in svg
    assert "Camera</text>" not in svg  # no camera evidence in this case
    assert f'href="#alert-{follow_up.uid}"' in svg and f'id="alert-{follow_up.uid}"' in html
    assert "Europe/Berlin" in html and "tom" in html
    guard = page(client, role_users["guard"], reverse("web:case", args=[case_uid]))
    assert alerts["plc"].uid not in guard and follow_up.uid in guard
    page(client, role_users["engineer"], reverse("web:case", args=[alerts["wms"].case_id]), 404)


def read_frames(response) -> list[str]:
    """The whole stream (tests make it short-lived), as frames."""
    return [f for f in b"".join(response.streaming_content).decode().split("\n\n") if f]


def test_the_stream_sends_a_new_alert_as_an_event_frame(client, role_users, alerts, monkeypatch):
    monkeypatch.setattr(views, "STREAM_POLL", 0.01)
    monkeypatch.setattr(views, "STREAM_SECONDS", 0.3)
    monkeypatch.setattr(views, "STREAM_OVERLAP", dt.timedelta(0))  # exactly what is newer than the cursor
    client.force_login(role_users["engineer"])
    response = client.get(reverse("web:alert_stream"), {"status": "open", "since": views._cursor(
        Alert.objects.order_by("-created").first().created)})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/event-stream")
    assert response["Cache-Control"] == "no-cache"
    fresh = raise_alert("lw-ot-009", [plc_download("pg-new", 30)], "Second PLC download")
    raise_alert("lw-it-002", [event("pg-beta", 31, site="beta", dst_endpoint__ip="10.2.4.10")], "Beta only")
    frames = read_frames(response)
    assert frames[0] == f"retry: {views.STREAM_RETRY_MS}"
    events = [f for f in frames if f.startswith("id:")]
    assert len(events) == 1
    assert frames[-1] == ": waiting"  # keep-alive comments between polls, then the connection ends
    lines = dict(line.split(": ", 1) for line in events[0].split("\n"))
    assert lines["event"] == "alert"
    data = json.loads(lines["data"])
    assert data["uid"] == fresh.uid and data["site"] == "alpha"
    assert f'id="alert-{fresh.uid}"' in data["html"] and "Alpha OT engineering" in data["html"]
    assert views._parse_cursor(lines["id"]) == Alert.objects.get(pk=fresh.uid).created

    # reconnecting with the last id sends nothing twice; the beta alert never reaches this engineer
    again = client.get(reverse("web:alert_stream"), HTTP_LAST_EVENT_ID=lines["id"])
    later = [f for f in read_frames(again) if f.startswith("id:")]
    assert fresh.uid not in "".join(later) and "Beta only" not in "".join(later)


def test_the_stream_looks_back_for_alerts_committed_after_the_cursor_moved(client, role_users, alerts, monkeypatch):
    """A detection batch commits after its rows got their `created` time: such an alert is still sent."""
    from django.utils import timezone

    monkeypatch.setattr(views, "STREAM_POLL", 0.01)
    monkeypatch.setattr(views, "STREAM_SECONDS", 0.5)
    Alert.objects.update(created=timezone.now() - dt.timedelta(minutes=5))
    client.force_login(role_users["analyst"])
    response = client.get(reverse("web:alert_stream"), {"since": views._cursor(timezone.now())})
    late = raise_alert("lw-ot-010", [plc_download("pg-late", 40)], "Late commit")
    Alert.objects.filter(pk=late.uid).update(created=timezone.now() - dt.timedelta(seconds=10))
    sent = "".join(read_frames(response))
    assert late.uid in sent
    assert alerts["plc"].uid not in sent  # older than the look-back


def test_guards_streams_carry_only_physical_security_alerts(client, role_users, alerts, monkeypatch):
    monkeypatch.setattr(views, "STREAM_POLL", 0.01)
    monkeypatch.setattr(views, "STREAM_SECONDS", 0.5)
    client.force_login(role_users["guard"])
    response = client.get(reverse("web:alert_stream"), {"since": "0"})
    sent = "".join(read_frames(response))
    assert alerts["camera"].uid in sent and alerts["plc"].uid not in sent and alerts["wms"].uid not in sent
    client.force_login(role_users["sensor"])
    assert client.get(reverse("web:alert_stream")).status_code == 403


def test_the_home_page_counts_open_alerts_by_severity(client, role_users, alerts):
    html = page(client, role_users["analyst"], reverse("web:home"))
    strip = html[html.index('id="open-alerts"'):]
    strip = strip[: strip.index("</section>")]
    counts = re.findall(r'<span class="n">(\d+)</span><span class="k">(\w+)</span>', strip)
    assert [label for _, label in counts] == ["Critical", "High", "Medium", "Low", "Informational"]
    assert sum(int(n) for n, _ in counts) == 3 and "3 open alerts" in strip
    guard = page(client, role_users["guard"], reverse("web:home"))
    assert "1 open alert " in guard
    nav = html[html.index('<nav class="mainnav"'):]
    assert 'href="/alerts/"' in nav[: nav.index("</nav>")] and 'href="/cases/"' in nav[: nav.index("</nav>")]


def test_the_stream_under_asgi_waits_without_holding_a_thread(role_users, alerts, monkeypatch):
    """Uvicorn serves the ASGI app: there the stream is an async generator (the same frames)."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    monkeypatch.setattr(views, "STREAM_POLL", 0.01)
    monkeypatch.setattr(views, "STREAM_SECONDS", 0.2)

    async def stream() -> tuple[object, str]:
        client = AsyncClient()
        await client.aforce_login(role_users["guard"])
        response = await client.get(reverse("web:alert_stream"), {"since": "0"})
        body = b"".join([chunk async for chunk in response.streaming_content]).decode()
        return response, body

    response, body = async_to_sync(stream)()
    assert response.status_code == 200 and response.is_async
    assert body.startswith(f"retry: {views.STREAM_RETRY_MS}") and "event: alert" in body
    assert alerts["camera"].uid in body and alerts["plc"].uid not in body
