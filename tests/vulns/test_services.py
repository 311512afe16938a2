"""Feeds into the database (incremental, per-record errors), matching the inventory into findings that keep their
status, risk parts, the CLI over the database, and the API."""

from __future__ import annotations

import json

import pytest

from linewatch.core.models import Asset, AuditEntry, Site
from linewatch.vulns import demo_feeds, services
from linewatch.vulns.models import FeedImport, Finding, KevEntry, Vulnerability

HIK = {"vendor": "Hikvision", "model": "DS-2CD2142FWD-I", "firmware": "V5.5.0 build 170725"}
FEEDS = ("nvd_CVE-2021-36260_synthetic.json", "kev_small.json", "kev_small.csv", "csaf_small.json", "epss_small.csv")


def record_matrix_findings() -> None:
    """One confirmed KEV finding per test site, on its camera (idempotent): the role matrices use them."""
    for path in demo_feeds():
        if not FeedImport.objects.filter(digest=services._digest(path)).exists():
            services.import_feed(path)
    Asset.objects.filter(site__slug__in=("alpha", "beta"), name__in=("cam-1", "cam-gate")).update(**HIK)
    services.match_sites(Site.objects.filter(slug__in=("alpha", "beta")))


def matrix_finding_id(site: str) -> int:
    return Finding.objects.get(site__slug=site, cve="CVE-2021-36260").pk


@pytest.fixture
def hik_camera(alpha_beta):
    Asset.objects.filter(site__slug="alpha", name="cam-1").update(**HIK)
    return Asset.objects.get(site__slug="alpha", name="cam-1")


@pytest.mark.django_db
def test_import_is_incremental_and_changed_records_update(tmp_path, data):
    first = [services.import_feed(data / f) for f in FEEDS]
    assert sum(r.stats.added for r in first) >= 3 and all(not r.errors for r in first)
    counts = services.feed_counts()
    assert counts["kev"] == 2 and counts["vulnerabilities"] == 1 and counts["advisories"] == 1
    again = [services.import_feed(data / f) for f in FEEDS]
    assert sum(r.stats.added + r.stats.updated for r in again) == 0
    assert services.feed_counts() == counts and FeedImport.objects.count() == 2 * len(FEEDS)
    doc = json.loads((data / "nvd_CVE-2021-36260_synthetic.json").read_text())
    cve = doc["vulnerabilities"][0]["cve"]
    cve["lastModified"] = "2030-01-01T00:00:00.000"
    cve["metrics"]["cvssMetricV31"][0]["cvssData"]["baseScore"] = 9.9
    (tmp_path / "newer.json").write_text(json.dumps(doc))
    assert services.import_feed(tmp_path / "newer.json").stats.updated == 1
    v = Vulnerability.objects.get(cve="CVE-2021-36260")
    assert v.cvss == 9.9 and v.cwes == [] or isinstance(v.cwes, list)
    assert Vulnerability.objects.count() == 1
    store = services.feed_store()
    assert store.get("CVE-2021-36260").nvd.scores[0].base_score == 9.9 and store.get("CVE-2021-36260").kev


@pytest.mark.django_db
def test_a_broken_record_is_named_and_the_rest_of_the_file_stored(tmp_path, data):
    doc = json.loads((data / "kev_small.json").read_text())
    doc["vulnerabilities"].insert(1, {"cveID": "not-a-cve", "vendorProject": "x", "product": "y"})
    (tmp_path / "kev.json").write_text(json.dumps(doc))
    result = services.import_feed(tmp_path / "kev.json")
    assert result.records == 2 and KevEntry.objects.count() == 2
    assert [(e.place, "not a CVE id" in e.message) for e in result.errors] == [("$.vulnerabilities[1].cveID", True)]
    assert FeedImport.objects.get(file=str(tmp_path / "kev.json")).errors[0]["place"] == "$.vulnerabilities[1].cveID"


@pytest.mark.django_db
def test_matching_the_inventory_gives_a_confirmed_kev_finding_with_evidence_and_risk_parts(hik_camera):
    for path in demo_feeds():
        services.import_feed(path)
    alpha = Site.objects.get(slug="alpha")
    summary = services.match_site(alpha)
    assert summary.created == 1 and summary.exposure == "purdue"
    f = Finding.objects.get(site=alpha, cve="CVE-2021-36260")
    assert f.subject == "asset:cam-1" and f.confidence == "confirmed" and f.kev and f.active
    nvd = next(e for e in f.evidence if e["feed"] == "nvd")
    assert "V5.5.800 build 210628" in nvd["detail"] and nvd["locator"].startswith("$.configurations[0]")
    assert nvd["provenance"]["firmware"] == "asset record cam-1 (plant model)"
    assert f.exposure == "reachable from IT" or "Purdue level" in f.exposure
    assert f.risk_parts["exploitability"]["kev"] is True and f.risk_parts["exposure"]["method"] == "purdue"
    assert f.risk_score // 1000 == 1  # KEV leads the priority code
    assert f.consequence_per_hour is not None
    assert services.match_site(alpha).unchanged == 1 and Finding.objects.count() == 1


@pytest.mark.django_db
def test_status_is_kept_across_rematching_and_audited(hik_camera, role_users):
    for path in demo_feeds():
        services.import_feed(path)
    alpha = Site.objects.get(slug="alpha")
    services.match_site(alpha)
    f = Finding.objects.get(site=alpha)
    with pytest.raises(Exception, match="say why"):
        services.set_status(f, role_users["engineer"], "accepted", "")
    services.set_status(f, role_users["engineer"], "accepted", "camera isolated on its own VLAN until replaced")
    assert services.match_site(alpha).kept_status == 1
    f.refresh_from_db()
    assert f.status == "accepted" and f.status_by_name == "engineer"
    entry = AuditEntry.objects.get(object_type="vulns.finding")
    assert entry.before["status"] == "open" and entry.after["why"].startswith("camera isolated")
    # the firmware is upgraded past the range: the finding is no longer matched, and stays recorded
    Asset.objects.filter(pk=hik_camera.pk).update(firmware="V5.5.800 build 210628")
    assert services.match_site(alpha).inactive == 1
    assert not Finding.objects.get(pk=f.pk).active


@pytest.mark.django_db
def test_discovered_firmware_overrides_the_record_with_its_provenance(hik_camera):
    from linewatch.discovery.engine.model import Device, Observation
    from linewatch.discovery.services import reconcile

    Asset.objects.filter(pk=hik_camera.pk).update(firmware="V5.7.0 build 220101")  # the record says: patched
    dv = Device(key="10.1.4.50", ip="10.1.4.50", first_seen=1.7e9, last_seen=1.7e9 + 5)
    dv.observe(Observation("firmware", "V5.5.0 build 170725", "http/Server", "plant.pcap", 42, 1.7e9, 0.9))
    reconcile(Site.objects.get(slug="alpha"), [dv])
    for path in demo_feeds():
        services.import_feed(path)
    services.match_site(Site.objects.get(slug="alpha"))
    f = Finding.objects.get(cve="CVE-2021-36260")
    prov = f.attributes["firmware"]["provenance"]
    assert f.confidence == "confirmed" and "http/Server, packet 42 of plant.pcap" in prov
    assert "the asset record says 'V5.7.0 build 220101'" in prov


@pytest.mark.django_db
def test_api_lists_filters_and_changes_status_per_site(client, role_users):
    from linewatch.core import accounts

    record_matrix_findings()
    token = accounts.create_token(role_users["engineer"], "t")
    h = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    rows = client.get("/api/v1/vulns/findings", **h).json()
    assert {r["site"] for r in rows} == {"alpha"} and rows[0]["cve"] == "CVE-2021-36260"
    assert client.get("/api/v1/vulns/findings?tier=maybe", **h).status_code == 400
    assert client.get("/api/v1/vulns/findings?kev=yes&tier=possible", **h).json() == []
    one = client.get(f"/api/v1/vulns/findings/{matrix_finding_id('alpha')}", **h).json()
    assert one["evidence"] and one["risk_parts"]["exposure"]["method"]
    assert client.get(f"/api/v1/vulns/findings/{matrix_finding_id('beta')}", **h).status_code == 404
    url = f"/api/v1/vulns/findings/{matrix_finding_id('alpha')}/status"
    assert client.post(url, {"status": "mitigated"}, content_type="application/json", **h).status_code == 400
    done = client.post(url, {"status": "mitigated", "why": "firmware 5.5.800 installed"},
                       content_type="application/json", **h)
    assert done.status_code == 200 and done.json()["status"] == "mitigated"


@pytest.mark.django_db
def test_register_and_subject_pages(client, role_users):
    from django.urls import reverse

    record_matrix_findings()
    client.force_login(role_users["engineer"])
    page = client.get(reverse("web:risk_register")).content.decode()
    assert "CVE-2021-36260" in page and "cam-1" in page and "cam-gate" not in page
    assert "CVE-2021-36260" not in client.get(reverse("web:risk_register") + "?kev=no").content.decode()
    assert client.get(reverse("web:risk_register") + "?tier=bogus").status_code == 400
    url = reverse("web:vuln_subject", args=["alpha", "asset", "cam-1"])
    detail = client.get(url).content.decode()
    assert "V5.5.800 build 210628" in detail and "asset record cam-1" in detail and "Set status" in detail
    fid = matrix_finding_id("alpha")
    assert client.post(url, {"finding": fid, "status": "false_positive", "why": ""}).status_code == 400
    assert client.post(url, {"finding": fid, "status": "false_positive", "why": "lab unit"}).status_code == 302
    assert Finding.objects.get(pk=fid).status == "false_positive"
    from linewatch.discovery.models import DiscoveredDevice, PostureFinding

    device = DiscoveredDevice.objects.create(site=Site.objects.get(slug="alpha"), key="10.1.4.99", ip="10.1.4.99",
                                             status="shadow", **HIK)
    services.match_site(Site.objects.get(slug="alpha"))
    shadow = client.get(reverse("web:vuln_subject", args=["alpha", "device", "10.1.4.99"])).content.decode()
    assert "CVE-2021-36260" in shadow and "discovered device 10.1.4.99" in shadow and "not in the plant model" in shadow
    f = Finding.objects.get(subject="device:10.1.4.99")
    assert f.exposure == "reachable from IT" and f.exposure_method == "purdue"  # office zone, by its address
    assert f.consequence_per_hour is None  # not in the plant model: nothing known depends on it
    assert client.get(reverse("web:vuln_subject", args=["alpha", "thing", "x"])).status_code == 404
    PostureFinding.objects.create(device=device, check_name="snmp-community", severity="high",
                                  title="SNMP v2c with the default community 'public'")
    register = client.get(reverse("web:risk_register") + "?kind=posture").content.decode()
    assert "default community" in register and "CVE-2021-36260" not in register
    assert "default community" not in client.get(reverse("web:risk_register") + "?kev=yes").content.decode()
    client.force_login(role_users["auditor"])
    assert client.get(url).status_code == 200
    assert client.post(url, {"finding": fid, "status": "open"}).status_code == 403


@pytest.mark.django_db
def test_cli_imports_matches_and_ranks(alpha_beta, data, tmp_path):
    from typer.testing import CliRunner

    from tests.vulns.test_cli import app

    Asset.objects.filter(site__slug="alpha", name="cam-1").update(**HIK)
    runner = CliRunner()
    bad = tmp_path / "bad.json"
    bad.write_text('{"vulnerabilities": [')
    r = runner.invoke(app, ["feeds", "import", str(bad), *[str(data / f) for f in FEEDS], "--json"])
    assert r.exit_code == 2 and "bad.json" in r.stdout and "line 1 column" in r.stdout
    assert KevEntry.objects.count() == 2  # the other files were stored
    r = runner.invoke(app, ["vulns", "--site", "alpha", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["findings"][0]["cve"] == "CVE-2021-36260" and doc["findings"][0]["confidence"] == "confirmed"
    assert runner.invoke(app, ["vulns", "--site", "nowhere"]).exit_code == 2
    table = runner.invoke(app, ["vulns", "--no-match"])
    assert table.exit_code == 0 and "CVE-2021-36260" in table.stdout


@pytest.mark.corpus
@pytest.mark.django_db
def test_corpus_feeds_import_and_corpus_devices_match_with_confidence_and_evidence(alpha_beta):
    """The KEV, CSAF and NVD samples of the corpus import into the database; the devices discovery finds in
    corpus captures, reconciled into a site, match with a tier and evidence naming the observation."""
    from linewatch.discovery.engine import Discovery
    from linewatch.discovery.services import reconcile
    from tests.vulns.conftest import VULN_CORPUS

    files = sorted(f for f in VULN_CORPUS.rglob("*.json") if "schema" not in f.name)
    results = [services.import_feed(f) for f in files]
    assert all(not r.errors for r in results), [r.errors[:2] for r in results if r.errors]
    kinds = {r.kind for r in results}
    assert kinds == {"kev", "csaf", "nvd"}
    counts = services.feed_counts()
    assert counts["kev"] > 1000 and counts["advisories"] == len(list((VULN_CORPUS / "csaf").glob("*.json")))
    assert counts["vulnerabilities"] == 3
    again = [services.import_feed(f) for f in files]
    assert sum(r.stats.added + r.stats.updated for r in again) == 0 and services.feed_counts() == counts

    disc = Discovery()
    for name in ("enip/icsnpp_enip_cip_example.pcap", "camera/sentinel_D-LinkCam_Setup-A-1-STA.pcap"):
        disc.add_file(VULN_CORPUS.parent / "pcap" / name)
    alpha = Site.objects.get(slug="alpha")
    reconcile(alpha, disc)
    summary = services.match_site(alpha)
    assert summary.created > 0
    findings = list(Finding.objects.filter(site=alpha, subject__startswith="device:"))
    assert findings and all(f.confidence in ("confirmed", "probable", "possible") and f.evidence for f in findings)
    logix = [f for f in findings if f.cve == "CVE-2022-1161"]
    assert logix and logix[0].confidence == "possible"  # 1756-ENBT is only of the ControlLogix family
    ev = logix[0].evidence[0]
    assert ev["feed"] == "nvd" and "family" in ev["reason"] and "ListIdentity" in ev["provenance"]["model"]
