"""The discovered-device pages: list (shadow first, reason, suggested owner), detail with
provenance, Promote / Dismiss with CSRF and EDIT_PLANT at the site, and site scoping.
The role × page matrix (tests/web/test_roles_pages.py) covers every role on both routes."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from linewatch.core.models import Asset, Site
from linewatch.discovery.engine import Device, Observation
from linewatch.discovery.models import DeviceStatus, DiscoveredDevice
from linewatch.discovery.services import reconcile

T0 = 1_764_000_000.0
# Devices the role matrix names: a shadow device at each site.
MATRIX_KEYS = {"alpha": "10.1.11.99", "beta": "10.2.0.99"}


def _device(ip: str, mac: str | None = None, kind: str | None = None, **attrs: str) -> Device:
    dv = Device(key=ip, ip=ip, first_seen=T0, last_seen=T0 + 5, kind=kind)
    if mac:
        dv.macs[mac] = 3
    for n, (attribute, value) in enumerate(attrs.items(), start=1):
        dv.observe(Observation(attribute, value, "enip/ListIdentity", "plant.pcap", n, T0 + n, 0.9))
    return dv


def record_matrix_devices() -> None:
    """One shadow device per test site (idempotent)."""
    for slug, ip in MATRIX_KEYS.items():
        reconcile(Site.objects.get(slug=slug), [_device(ip)])


@pytest.fixture
def alpha_devices(role_users):
    alpha = Site.objects.get(slug="alpha")
    reconcile(alpha, [
        _device("10.1.11.10", "00:1b:1b:12:34:56", "plc", firmware="V3.0.1"),
        _device("10.1.11.99", None, "plc", vendor="Rockwell Automation", model="1756-L83E"),
    ])
    record_matrix_devices()
    return alpha


def test_the_list_puts_shadow_devices_first_with_reason_and_owner(client, alpha_devices, role_users):
    client.force_login(role_users["engineer"])
    page = client.get(reverse("web:discovered")).content.decode()
    assert page.index("10.1.11.99") < page.index("plc-line1")
    assert "MAC 00:1b:1b:12:34:56 equals plc-line1:x1" in page
    assert "alpha-ot" in page  # the PLC kind rule suggests alpha's OT team for the shadow PLC
    assert "10.2.0.99" not in page  # beta is not the engineer's site
    shadow_only = client.get(reverse("web:discovered") + "?status=shadow").content.decode()
    assert "10.1.11.99" in shadow_only and "plc-line1:x1" not in shadow_only


def test_the_analyst_sees_every_site(client, alpha_devices, role_users):
    client.force_login(role_users["analyst"])
    page = client.get(reverse("web:discovered")).content.decode()
    assert "10.1.11.99" in page and "10.2.0.99" in page
    assert "10.2.0.99" not in client.get(reverse("web:discovered") + "?site=alpha").content.decode()


def test_the_device_page_shows_observations_with_provenance_and_drift(client, alpha_devices, role_users):
    client.force_login(role_users["auditor"])
    url = reverse("web:discovered_device", args=["alpha", "00:1b:1b:12:34:56"])
    page = client.get(url).content.decode()
    assert "V3.0.1" in page and "enip/ListIdentity" in page and "plant.pcap" in page
    assert 'id="drift"' in page and "V2.9.4" in page
    assert 'name="action" value="promote"' not in page  # the auditor may not edit the plant


def test_promote_from_the_page(client, alpha_devices, role_users):
    client.force_login(role_users["engineer"])
    url = reverse("web:discovered_device", args=["alpha", "10.1.11.99"])
    page = client.get(url).content.decode()
    assert 'value="promote"' in page and 'value="dismiss"' in page and "csrfmiddlewaretoken" in page
    response = client.post(url, {"action": "promote", "name": "plc-line1-b", "kind": "plc"})
    assert response.status_code == 302
    asset = Asset.objects.get(site__slug="alpha", name="plc-line1-b")
    assert asset.vendor == "Rockwell Automation" and asset.interfaces.get().ip == "10.1.11.99"
    assert DiscoveredDevice.objects.get(key="10.1.11.99", site__slug="alpha").status == DeviceStatus.PROMOTED
    again = client.post(url, {"action": "promote", "name": "other"})
    assert again.status_code == 400 and "already promoted" in again.content.decode()


def test_a_taken_name_is_a_400_with_the_reason(client, alpha_devices, role_users):
    client.force_login(role_users["lead"])
    url = reverse("web:discovered_device", args=["alpha", "10.1.11.99"])
    response = client.post(url, {"action": "promote", "name": "plc-line1"})
    assert response.status_code == 400 and "exists" in response.content.decode()


def test_dismiss_from_the_page(client, alpha_devices, role_users):
    client.force_login(role_users["lead"])
    url = reverse("web:discovered_device", args=["alpha", "10.1.11.99"])
    assert client.post(url, {"action": "dismiss", "why": ""}).status_code == 400
    assert client.post(url, {"action": "dismiss", "why": "integrator laptop"}).status_code == 302
    device = DiscoveredDevice.objects.get(key="10.1.11.99", site__slug="alpha")
    assert device.status == DeviceStatus.DISMISSED and device.review_note == "integrator laptop"


def test_review_needs_edit_plant_at_the_site(client, alpha_devices, role_users):
    client.force_login(role_users["auditor"])
    url = reverse("web:discovered_device", args=["alpha", "10.1.11.99"])
    assert client.post(url, {"action": "dismiss", "why": "no"}).status_code == 403
    client.force_login(role_users["engineer"])  # alpha only: beta's device is not found
    beta = reverse("web:discovered_device", args=["beta", "10.2.0.99"])
    assert client.get(beta).status_code == 404
    assert client.post(beta, {"action": "dismiss", "why": "no"}).status_code == 404
    client.force_login(role_users["guard"])
    assert client.get(url).status_code == 403
    assert DiscoveredDevice.objects.get(key="10.1.11.99", site__slug="alpha").status == DeviceStatus.SHADOW


def test_posts_need_the_csrf_token(alpha_devices, role_users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(role_users["engineer"])
    url = reverse("web:discovered_device", args=["alpha", "10.1.11.99"])
    assert client.post(url, {"action": "dismiss", "why": "x"}).status_code == 403
    assert DiscoveredDevice.objects.get(key="10.1.11.99", site__slug="alpha").status == DeviceStatus.SHADOW


def test_the_api_lists_devices_of_the_users_sites_shadow_first(client, alpha_devices, role_users):
    from linewatch.core import accounts

    token = accounts.create_token(role_users["engineer"], "discovered")
    rows = client.get("/api/v1/discovered", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert {r["site"] for r in rows} == {"alpha"}
    assert rows[0]["status"] == "shadow"
    matched = next(r for r in rows if r["status"] == "matched")
    assert matched["asset"] == "plc-line1" and matched["match_reason"] == "MAC 00:1b:1b:12:34:56 equals plc-line1:x1"
    assert matched["drift"] == [{"attribute": "firmware", "intended": "V2.9.4", "observed": "V3.0.1"}]
    token = accounts.create_token(role_users["analyst"], "discovered")
    rows = client.get("/api/v1/discovered?site=beta", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert [r["key"] for r in rows] == ["10.2.0.99"]
    token = accounts.create_token(role_users["guard"], "discovered")
    assert client.get("/api/v1/discovered", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 403


def test_posture_findings_show_with_evidence_and_can_be_reviewed(client, alpha_devices, role_users):
    from linewatch.discovery.models import FindingStatus, PostureFinding

    dv = _device("10.1.11.120", None, "camera", vendor="Hikvision")
    dv.findings = [{"check": "default-credentials", "severity": "medium", "finding": "Hikvision camera ships with "
                    "well-known default credentials", "evidence": "vendor Hikvision (oui/Hangzhou)",
                    "source": "oui/Hangzhou", "file": "plant.pcap", "packet": 4, "time": None}]
    reconcile(alpha_devices, [dv])
    url = reverse("web:discovered_device", args=["alpha", "10.1.11.120"])
    client.force_login(role_users["engineer"])
    page = client.get(url).content.decode()
    assert 'id="posture"' in page and "vendor Hikvision (oui/Hangzhou)" in page and "#4" in page
    assert "1 open" in client.get(reverse("web:discovered")).content.decode()
    finding = PostureFinding.objects.get(device__key="10.1.11.120")
    bad = client.post(url, {"action": "finding", "finding": finding.pk, "status": "verified", "note": ""})
    assert bad.status_code == 400 and "say how it was verified" in bad.content.decode()
    ok = client.post(url, {"action": "finding", "finding": finding.pk, "status": "verified",
                           "note": "password changed, checked on site"})
    assert ok.status_code == 302
    finding.refresh_from_db()
    assert finding.status == FindingStatus.VERIFIED and finding.note == "password changed, checked on site"
    client.force_login(role_users["auditor"])  # sees the page, may not change the plant model
    assert client.post(url, {"action": "finding", "finding": finding.pk, "status": "open"}).status_code in (403, 404)


def test_the_api_lists_posture_findings_of_the_users_sites(client, alpha_devices, role_users):
    from linewatch.core import accounts

    beta = Site.objects.get(slug="beta")
    for site, ip in ((alpha_devices, "10.1.11.121"), (beta, "10.2.0.121")):
        dv = _device(ip, None, "switch")
        dv.findings = [{"check": "snmp-default-community", "severity": "high", "finding": "SNMP public",
                        "evidence": "community 'public' in snmp/community, packet 3 of x.pcap", "packet": 3}]
        reconcile(site, [dv])
    token = accounts.create_token(role_users["engineer"], "t")
    rows = client.get("/api/v1/discovered/findings", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert [(r["site"], r["device"], r["check"], r["packet"]) for r in rows] == [
        ("alpha", "10.1.11.121", "snmp-default-community", 3)]
