"""The demo: the shipped feeds, matched against the demo plant, show the known-exploited Hikvision camera."""

from __future__ import annotations

import pytest

from linewatch.vulns import demo
from linewatch.vulns.models import FeedImport, Finding


@pytest.mark.django_db
def test_demo_shows_the_kev_camera_confirmed_and_is_idempotent(demo_loaded):
    lines = demo.load()
    f = Finding.objects.get(site__slug="kolding", subject="asset:kol-cam-dock-03", cve="CVE-2021-36260")
    assert f.confidence == "confirmed" and f.kev and f.status == "open"
    assert f.exposure_method == "segmentation", f.risk_parts
    assert f.consequence_per_hour is not None
    assert any("kol-cam-dock-03" in line and "CVE-2021-36260" in line for line in lines)
    # the newer dock cameras (DS-2CD2143G2-I, V5.7.15) are not confirmed for it
    assert not Finding.objects.filter(subject__startswith="asset:kol-cam-dock-0", confidence="confirmed").exclude(
        pk=f.pk).exists()
    before = (Finding.objects.count(), FeedImport.objects.count())
    demo.load()
    assert (Finding.objects.count(), FeedImport.objects.count()) == before
