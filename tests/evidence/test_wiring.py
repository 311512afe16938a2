"""Evidence flows in without the other domains calling us: plant changes, alerts, their handling and incidents."""

from __future__ import annotations

import pytest

from linewatch.core.models import Asset
from linewatch.detect import cases
from linewatch.detect.alerts import Detection, record_alert
from linewatch.events.schema import Event, EventClass, event_uid
from linewatch.events.store import store_events
from linewatch.evidence.models import Entry

pytestmark = pytest.mark.django_db


def _kinds(site: str) -> list[str]:
    return list(Entry.objects.filter(log__site_slug=site).order_by("seq").values_list("kind", flat=True))


def test_plant_model_changes_become_ledger_entries(alpha_beta):
    assert set(_kinds("alpha")) == {"plant.changed"}  # importing the site was recorded
    before = Entry.objects.filter(log__site_slug="alpha").count()
    asset = Asset.objects.filter(site__slug="alpha").first()
    asset.description = "moved to hall 2"
    asset.save()
    last = Entry.objects.filter(log__site_slug="alpha").order_by("-seq").first()
    assert Entry.objects.filter(log__site_slug="alpha").count() == before + 1
    assert last.kind == "plant.changed"
    assert last.body["action"] == "update" and last.body["after"]["description"] == "moved to hall 2"


def test_an_alert_and_its_handling_are_recorded_in_order(alpha_beta, role_users):
    events = [Event(uid=event_uid("test", "dl"), time=1764000000000, class_uid=EventClass.CONTROLLER_ACTIVITY,
                    activity_id=1, site="alpha", source="test",
                    attrs={"src_endpoint.ip": "10.1.4.77", "dst_endpoint.ip": "10.1.11.10"})]
    store_events(events)
    alert, _ = record_alert(Detection("lw-test", "PLC program download", "high", events=events))
    analyst = role_users["analyst"]
    cases.acknowledge(alert, analyst, "on it")
    cases.close(alert, analyst, "authorised work order")
    kinds = [k for k in _kinds("alpha") if not k.startswith("plant.")]
    assert kinds[0] == "alert.raised" and "incident.opened" in kinds and "response.routed" in kinds
    assert kinds.index("alert.raised") < kinds.index("alert.acknowledged") < kinds.index("alert.closed")
    closed = Entry.objects.filter(log__site_slug="alpha", kind="alert.closed").get()
    assert closed.body["alert"] == alert.uid and closed.body["text"] == "authorised work order"


def test_a_closed_vulnerability_finding_is_recorded_and_counted(alpha_beta, role_users):
    from linewatch.evidence.engine.controls import compute
    from linewatch.vulns import services as vulns
    from linewatch.vulns.models import Finding
    from tests.vulns.test_services import record_matrix_findings

    record_matrix_findings()
    finding = Finding.objects.get(site__slug="alpha", cve="CVE-2021-36260")
    vulns.set_status(finding, role_users["lead"], "mitigated", "camera moved behind the NVR firewall")
    entries = list(Entry.objects.filter(log__site_slug="alpha", kind="vuln.finding_status"))
    assert [e.body["to"] for e in entries] == ["mitigated"]
    assert not Entry.objects.filter(log__site_slug="alpha", kind="plant.changed",
                                    canonical__contains="vulns.finding").exists()
    kpis = compute([(e.seq, e.record) for e in entries])
    assert kpis["vulnerability-management"][0]["value"] == 1
