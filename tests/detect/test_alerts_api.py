"""The alerts and cases API: scoped reads, the handoff actions and their log."""

from __future__ import annotations

import pytest

from linewatch.core import accounts
from linewatch.detect.models import Alert, AlertNote, AlertStatus
from linewatch.events.schema import EventClass
from tests.detect.test_cases import CAMERA, badge, event, plc_download, raise_alert


@pytest.fixture
def alerts(role_users):
    """A PLC download at alpha (high, costly), a camera tamper at alpha, a WMS alert at beta."""
    plc = raise_alert("lw-ot-001", [plc_download("api-plc", 0, user="tom")], "PLC program download",
                      tags=("attack.ics", "attack.t0843"))
    camera = raise_alert("lw-phys-002", [event("api-cam", 3, class_uid=EventClass.SURVEILLANCE_DEVICE, activity=2,
                                               device__ip=CAMERA)], "Camera tampered", level="medium")
    wms = raise_alert("lw-it-001", [event("api-wms", 5, site="beta", dst_endpoint__ip="10.2.4.10")],
                      "Scan of the WMS", level="low")
    return {"plc": plc, "camera": camera, "wms": wms}


def call(client, users, username: str, method: str, path: str, body: dict | None = None):
    token = accounts.create_token(users[username], "test")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if method == "GET":
        return client.get(path, body or {}, **headers)
    return client.post(path, body or {}, content_type="application/json", **headers)


def uids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["uid"] for row in response.json()}


def test_the_list_is_scoped_by_site_and_for_guards_to_physical_security(client, role_users, alerts):
    everything = {a.uid for a in alerts.values()}
    assert uids(call(client, role_users, "analyst", "GET", "/api/v1/alerts")) == everything
    assert uids(call(client, role_users, "auditor", "GET", "/api/v1/alerts")) == everything
    alpha = {alerts["plc"].uid, alerts["camera"].uid}
    assert uids(call(client, role_users, "engineer", "GET", "/api/v1/alerts")) == alpha
    assert uids(call(client, role_users, "lead", "GET", "/api/v1/alerts")) == alpha
    assert uids(call(client, role_users, "guard", "GET", "/api/v1/alerts")) == {alerts["camera"].uid}
    assert call(client, role_users, "sensor", "GET", "/api/v1/alerts").status_code == 403


def test_list_filters(client, role_users, alerts):
    def listed(**query):
        return uids(call(client, role_users, "analyst", "GET", "/api/v1/alerts", query))

    assert listed(site="beta") == {alerts["wms"].uid}
    assert listed(rule="lw-ot-001") == {alerts["plc"].uid}
    assert listed(asset="cam-1") == {alerts["camera"].uid}
    assert listed(asset="alpha/plc-line1") == {alerts["plc"].uid}
    assert listed(asset=str(alerts["wms"].asset_id)) == {alerts["wms"].uid}
    assert listed(severity_min=alerts["plc"].severity_id) == {alerts["plc"].uid}
    assert listed(team="alpha-ot") == {alerts["plc"].uid}
    assert listed(status="open") == {a.uid for a in alerts.values()}
    assert listed(status="closed") == set()
    bad = call(client, role_users, "analyst", "GET", "/api/v1/alerts", {"status": "whatever"})
    assert bad.status_code == 400


def test_the_detail_is_the_detection_finding_with_owner_consequence_and_case(client, role_users, alerts):
    plc = alerts["plc"]
    response = call(client, role_users, "engineer", "GET", f"/api/v1/alerts/{plc.uid}")
    assert response.status_code == 200
    body = response.json()
    assert body["owner_team"] == "alpha-ot" and body["asset"] == "plc-line1" and body["asset_kind"] == "plc"
    assert body["status"] == "new" and body["assignee"] is None and body["case"] == plc.case_id
    assert body["cost_per_hour"] == 42000 and body["severity"] in ("High", "Critical")
    finding = body["finding"]
    assert finding["class_uid"] == 2004 and finding["metadata"]["uid"] == plc.uid
    assert finding["finding_info"]["attacks"] == [{"technique": {"uid": "T0843"}}]
    assert finding["unmapped"]["consequence"]["lines"][0]["line"] == "Line 1 filling"
    assert finding["unmapped"]["owner"]["accountable"][0]["slug"] == "alpha-ot"
    # The only handoff so far is the routing to the owner team.
    assert [(n["via"], n["action"]) for n in body["notes"]] == [("routing", "assign")]
    assert body["event_uids"] == plc.event_uids


def test_guards_see_camera_alerts_of_their_site_without_plant_figures(client, role_users, alerts):
    camera = call(client, role_users, "guard", "GET", f"/api/v1/alerts/{alerts['camera'].uid}")
    assert camera.status_code == 200
    assert camera.json()["owner_team"] == "alpha-sec"
    assert camera.json()["cost_per_hour"] is None and camera.json()["finding"]["unmapped"]["consequence"] == {}
    assert call(client, role_users, "guard", "GET", f"/api/v1/alerts/{alerts['plc'].uid}").status_code == 404
    assert call(client, role_users, "guard", "GET", f"/api/v1/alerts/{alerts['wms'].uid}").status_code == 404


def test_other_sites_alerts_are_404_and_readers_may_not_handle(client, role_users, alerts):
    wms = alerts["wms"].uid
    assert call(client, role_users, "engineer", "GET", f"/api/v1/alerts/{wms}").status_code == 404
    assert call(client, role_users, "engineer", "POST", f"/api/v1/alerts/{wms}/acknowledge").status_code == 404
    assert call(client, role_users, "lead", "POST", f"/api/v1/alerts/{wms}/close",
                {"reason": "x"}).status_code == 404
    assert call(client, role_users, "auditor", "POST", f"/api/v1/alerts/{wms}/acknowledge").status_code == 403
    assert call(client, role_users, "guard", "POST", f"/api/v1/alerts/{alerts['camera'].uid}/acknowledge",
                ).status_code == 403
    assert call(client, role_users, "analyst", "GET", "/api/v1/alerts/nope").status_code == 404
    assert Alert.objects.get(pk=wms).status == AlertStatus.NEW
    assert not AlertNote.objects.exclude(via="routing").exists()  # nobody handled anything


def test_acknowledge_assign_close_change_the_status_and_write_the_handoff_log(client, role_users, alerts):
    uid = alerts["plc"].uid
    base = f"/api/v1/alerts/{uid}"
    ack = call(client, role_users, "engineer", "POST", f"{base}/acknowledge", {"note": "looking at the PLC"})
    assert ack.status_code == 200
    assert ack.json()["status"] == "acknowledged" and ack.json()["assignee"] == "engineer"
    assert call(client, role_users, "engineer", "POST", f"{base}/acknowledge").status_code == 409

    assign = call(client, role_users, "engineer", "POST", f"{base}/assign", {"to": "lead", "note": "your shift"})
    assert assign.status_code == 200 and assign.json()["assignee"] == "lead"
    team = call(client, role_users, "lead", "POST", f"{base}/assign", {"to": "team:alpha-ot"})
    assert team.status_code == 200
    assert team.json()["assignee"] is None and team.json()["assigned_team"] == "alpha-ot"
    assert call(client, role_users, "lead", "POST", f"{base}/assign", {"to": "alpha-ot"}).status_code == 409

    comment = call(client, role_users, "analyst", "POST", f"{base}/comment", {"text": "vendor confirmed"})
    assert comment.status_code == 200

    assert call(client, role_users, "lead", "POST", f"{base}/close", {"reason": "  "}).status_code == 400
    assert call(client, role_users, "lead", "POST", f"{base}/close", {}).status_code == 422
    closed = call(client, role_users, "lead", "POST", f"{base}/close", {"reason": "authorised work order wo-100"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert call(client, role_users, "lead", "POST", f"{base}/close", {"reason": "again"}).status_code == 409
    assert call(client, role_users, "lead", "POST", f"{base}/assign", {"to": "lead"}).status_code == 409

    log = [(n["author"], n["action"], n["from_status"], n["to_status"], n["from_assignee"], n["to_assignee"],
            n["text"]) for n in closed.json()["notes"] if n["via"] != "routing"]
    assert log == [  # the engineer takes it over from the team it was routed to
        ("engineer", "acknowledge", "new", "acknowledged", "team:alpha-ot", "user:engineer", "looking at the PLC"),
        ("engineer", "assign", "acknowledged", "acknowledged", "user:engineer", "user:lead", "your shift"),
        ("lead", "assign", "acknowledged", "acknowledged", "user:lead", "team:alpha-ot", ""),
        ("analyst", "comment", "acknowledged", "acknowledged", "team:alpha-ot", "team:alpha-ot", "vendor confirmed"),
        ("lead", "close", "acknowledged", "closed", "team:alpha-ot", "team:alpha-ot", "authorised work order wo-100"),
    ]
    assert {n["via"] for n in closed.json()["notes"]} == {"routing", "api token"}

    reopened = call(client, role_users, "analyst", "POST", f"{base}/acknowledge", {"note": "it happened again"})
    assert reopened.json()["status"] == "acknowledged"
    assert reopened.json()["notes"][-1]["action"] == "reopen"


def test_assigning_checks_the_assignee(client, role_users, alerts):
    base = f"/api/v1/alerts/{alerts['plc'].uid}/assign"
    refused = call(client, role_users, "analyst", "POST", base, {"to": "guard"})  # guards may not handle alerts
    assert refused.status_code == 400 and "may not handle" in refused.json()["detail"]
    assert call(client, role_users, "analyst", "POST", base, {"to": "nobody-here"}).status_code == 400
    wms = f"/api/v1/alerts/{alerts['wms'].uid}/assign"
    assert call(client, role_users, "analyst", "POST", wms, {"to": "engineer"}).status_code == 400  # alpha only
    assert call(client, role_users, "analyst", "POST", wms, {"to": "user:admin"}).json()["assignee"] == "admin"
    assert call(client, role_users, "analyst", "POST", wms, {"to": ""}).json()["assignee"] is None


def test_cases_list_and_detail_with_timeline(client, role_users, alerts):
    follow_up = raise_alert("lw-phys-001", [badge("api-badge", 10, "tom")], "Badge denied")
    plc = Alert.objects.get(pk=alerts["plc"].uid)
    assert follow_up.case_id == plc.case_id  # same person
    listed = call(client, role_users, "engineer", "GET", "/api/v1/cases")
    assert listed.status_code == 200
    by_uid = {c["uid"]: c for c in listed.json()}
    assert set(by_uid) == {plc.case_id, alerts["camera"].case_id}
    assert by_uid[plc.case_id]["alerts"] == 2 and by_uid[plc.case_id]["actors"] == ["tom"]

    detail = call(client, role_users, "engineer", "GET", f"/api/v1/cases/{plc.case_id}").json()
    assert [a["uid"] for a in detail["alert_list"]] == [plc.uid, follow_up.uid]
    kinds = [(row["kind"], row["domain"]) for row in detail["timeline"]]
    assert kinds == [("event", "ot"), ("alert", "alert"), ("event", "physical"), ("alert", "alert")]
    assert detail["timeline"][0]["alerts"] == [plc.uid]

    # guards see the case through its badge alert only, never the PLC alert in it
    guard = call(client, role_users, "guard", "GET", f"/api/v1/cases/{plc.case_id}").json()
    assert [a["uid"] for a in guard["alert_list"]] == [follow_up.uid] and guard["alerts"] == 1
    assert {row["domain"] for row in guard["timeline"]} == {"alert", "physical"}
    assert call(client, role_users, "engineer", "GET", f"/api/v1/cases/{alerts['wms'].case_id}").status_code == 404
    assert uids(call(client, role_users, "analyst", "GET", "/api/v1/cases", {"site": "beta"})) == {
        alerts["wms"].case_id}
