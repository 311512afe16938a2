"""The guard page in a real browser: start a tour, scan one checkpoint online and one offline, and see the
offline scan reach the server once the network is back."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_SITES

pytestmark = pytest.mark.browser
PASSWORD = "correct-horse-battery"
TOURS = {
    "checkpoints": [{"code": "gate", "name": "Main gate", "kind": "qr", "lat": 53.08, "lon": 8.8, "radius_m": 40},
                    {"code": "dock", "name": "Dock 2", "kind": "qr", "lat": 53.0809, "lon": 8.8, "radius_m": 40}],
    "tours": [{"slug": "evening", "name": "Evening round",
               "stops": [{"checkpoint": "gate", "offset_min": 0}, {"checkpoint": "dock", "offset_min": 10}]}],
}


@pytest.fixture
def guard(transactional_db):
    """Test sites, one guard at alpha and a two-checkpoint tour; live_server flushes the database, so here."""
    from linewatch.core import accounts
    from linewatch.core.models import Site
    from linewatch.core.sitefile.importer import import_files
    from linewatch.patrols import services

    import_files(sorted(str(p) for p in TEST_SITES.glob("*.yaml")))
    accounts.create_user("guard", PASSWORD, "guard", sites=["alpha"])
    services.reset_reuse_index()
    services.load_tours(Site.objects.get(slug="alpha"), TOURS)
    return "guard"


def test_guard_scans_online_and_offline_and_the_offline_scan_syncs(live_server, guard, browser):
    from linewatch.patrols import services
    from linewatch.patrols.models import Checkpoint, PatrolRun, Scan

    codes = {c.code: services.typed_code(c) for c in Checkpoint.objects.filter(site__slug="alpha")}
    context = browser.new_context(geolocation={"latitude": 53.08, "longitude": 8.8, "accuracy": 10},
                                  permissions=["geolocation"], viewport={"width": 412, "height": 900})
    page = context.new_page()
    base = live_server.url
    page.goto(base + "/login/?next=/patrol/")
    page.fill("#id_username", guard)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/patrol/")

    page.click("#start")
    page.wait_for_function("document.getElementById('running').textContent.includes('Evening round')")
    page.fill("#code", codes["gate"])
    page.click("#record")
    page.wait_for_function("document.getElementById('last').textContent.includes('Recorded gate')")
    sent = "Number(document.getElementById('patrol-app').dataset.sent || 0) >= "
    page.wait_for_function(sent + "2")  # the run and the first scan
    assert Scan.objects.filter(verified=True).count() == 1

    context.set_offline(True)
    page.wait_for_function("document.getElementById('net').textContent.includes('Offline')")
    page.fill("#code", codes["dock"])
    page.fill("#note", "shutter half open, closed it")
    page.click("#record")
    page.wait_for_function("document.getElementById('queue').textContent.includes('1 waiting')")
    assert Scan.objects.count() == 1  # still only on the phone

    context.set_offline(False)
    page.wait_for_function(sent + "3", timeout=30000)
    page.wait_for_function("document.getElementById('queue').textContent.includes('Nothing waiting')")
    run = PatrolRun.objects.get()
    scans = list(run.scans.order_by("at"))
    assert [s.checkpoint.code for s in scans] == ["gate", "dock"] and all(s.verified for s in scans)
    assert scans[1].note == "shutter half open, closed it" and scans[0].latitude == pytest.approx(53.08)
    assert run.guard.username == "guard"
    context.close()
