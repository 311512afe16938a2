"""The demo's evidence: site ledgers checkpointed and witnessed, a partner warehouse with four packs (one fails)."""

from __future__ import annotations

import datetime as dt

import pytest

from linewatch.evidence import demo
from linewatch.evidence.models import Checkpoint, Partner, SiteLog, Submission

pytestmark = pytest.mark.django_db


def test_demo_evidence_loads_once_with_one_failing_partner_pack(demo_loaded, tmp_path):
    lines = demo.load()
    assert any("1 failed verification" in line for line in lines), lines
    partner = Partner.objects.get(slug=demo.PARTNER)
    packs = Submission.objects.filter(partner=partner, kind="pack")
    assert packs.count() == 4 and packs.filter(verified=False).count() == 1
    failing = packs.get(verified=False)
    assert any(f["file"] == "records.jsonl" for f in failing.result["failures"])
    for log in SiteLog.objects.filter(size__gt=0):
        latest = Checkpoint.objects.filter(log=log).order_by("-size").first()
        assert latest.size == log.size and latest.cosignatures.exists()
    before = (Submission.objects.count(), Checkpoint.objects.count())
    demo.load()
    assert (Submission.objects.count(), Checkpoint.objects.count()) == before  # idempotent

    from linewatch.core.models import Site
    from linewatch.evidence.engine.verify import verify_pack
    from linewatch.evidence.packs import site_pack_bytes, trusted_keys

    site = Site.objects.get(slug="padborg")
    today = dt.date.today()
    pack = site_pack_bytes(site, today - dt.timedelta(days=40), today, tmp_path / "padborg.zip")
    assert verify_pack(pack, trusted_keys(site)).ok
