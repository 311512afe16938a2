"""Vulnerability findings feed the attack-path fixpoint: the demo's known-exploited camera becomes a foothold from
the office through the firewall rule that lets HTTP in, and stops being one once the finding is mitigated."""

from __future__ import annotations

from linewatch.segmentation.analysis import attack_paths
from linewatch.vulns import demo
from linewatch.vulns.models import Finding, FindingStatus
from linewatch.vulns.services import exploitable_services


def test_a_vulnerable_camera_is_a_step_of_an_attack_path_until_mitigated(demo_loaded):
    demo.load()
    facts = exploitable_services("kolding")
    camera = Finding.objects.get(site__slug="kolding", cve="CVE-2021-36260", asset__name="kol-cam-dock-03")
    assert {"service": "tcp/80", "id": "CVE-2021-36260", "gives": "code"} in facts[str(camera.asset_id)]

    result = attack_paths("kolding", "office", "kol-cam-dock-03")
    step = result["paths"][0]["steps"][0]
    assert step["via"] == "vuln:CVE-2021-36260" and step["privilege"] == "code"
    assert step["witness"]["dport"] in (80, 443, 554, 8000, 8080, 8554)
    assert step["rules"], "the firewall rule that lets the exploit through is named"

    camera.status = FindingStatus.MITIGATED
    camera.save()
    assert str(camera.asset_id) not in exploitable_services("kolding")
    after = attack_paths("kolding", "office", "kol-cam-dock-03")
    assert not any(s["via"].startswith("vuln:") for p in after["paths"] for s in p["steps"])
