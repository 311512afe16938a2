"""Alerts in a real browser: a new alert appears on the open list by itself (server-sent events), the
analyst opens it, acknowledges it, and the case page draws the timeline."""

from __future__ import annotations

import os

import pytest

from tests.conftest import TEST_SITES

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


@pytest.fixture
def analyst(transactional_db, monkeypatch):
    """The test sites, one analyst, and a short-lived, quick stream (the live server runs in this process)."""
    from linewatch.core import accounts
    from linewatch.core.sitefile.importer import import_files
    from linewatch.detect import views

    monkeypatch.setattr(views, "STREAM_POLL", 0.2)
    monkeypatch.setattr(views, "STREAM_SECONDS", 5.0)
    import_files(sorted(str(p) for p in TEST_SITES.glob("*.yaml")))
    accounts.create_user("analyst", PASSWORD, "security_analyst", all_sites=True)
    return "analyst"


def test_live_alert_acknowledge_and_case_timeline(live_server, analyst, browser, tmp_path):
    from tests.detect.test_cases import badge, plc_download, raise_alert

    first = raise_alert("lw-phys-001", [badge("br-badge", 0, "tom")], "Badge denied at hall 1")
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    base = live_server.url
    page.goto(base + "/alerts/")
    page.fill("#id_username", analyst)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/alerts/")
    assert page.locator("#alert-rows tr").count() == 1
    page.wait_for_selector("#live-status:has-text('live')", timeout=10_000)

    # a new alert arrives while the list is open: its row goes on top, without a reload
    download = raise_alert("lw-ot-001", [plc_download("br-plc", 20, user="tom")], "PLC program download",
                           tags=("attack.ics", "attack.t0843"))
    page.wait_for_selector(f"#alert-{download.uid}", timeout=10_000)
    top = page.locator("#alert-rows tr").first
    assert top.get_attribute("id") == f"alert-{download.uid}"
    assert "Alpha OT engineering" in top.inner_text() and "42,000" in top.inner_text()
    assert page.inner_text("#new-count") == "1 new"
    page.screenshot(path=str(tmp_path / "alerts.png"), full_page=True)

    # the alert page: consequence and owner, then acknowledge it
    page.click(f"#alert-{download.uid} a.strong")
    page.wait_for_url(f"**/alerts/{download.uid}/")
    assert "Line 1 filling" in page.inner_text("#consequence")
    assert "Alpha OT engineering" in page.inner_text("#owner")
    assert page.inner_text("#alert-status") == "New"
    page.fill("#handling form:has(input[value=acknowledge]) input[name=note]", "checking with the line")
    page.click("#handling button:has-text('Acknowledge')")
    page.wait_for_url(f"**/alerts/{download.uid}/#handling")
    assert page.inner_text("#alert-status") == "Acknowledged"
    assert page.inner_text("#assignee").strip() == "analyst"
    log = page.inner_text("#log")
    assert "analyst" in log and "checking with the line" in log and "acknowledged" in log
    colour = page.eval_on_selector(".sev-5, .sev-4", "e => getComputedStyle(e).backgroundColor")
    assert colour in ("rgb(142, 20, 20)", "rgb(217, 72, 28)")
    page.screenshot(path=str(tmp_path / "alert.png"), full_page=True)

    # the case: both alerts (same person) on one timeline
    page.click(".pagehead a[href^='/cases/']")
    page.wait_for_url("**/cases/*/")
    assert page.locator("svg.timeline .pt-alert").count() == 2
    assert page.locator("svg.timeline .pt-event").count() == 2
    assert first.case_id == download.case_id
    page.screenshot(path=str(tmp_path / "case.png"), full_page=True)
    data = (tmp_path / "case.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    if os.environ.get("LINEWATCH_SCREENSHOTS"):
        import shutil

        for name in ("alerts.png", "alert.png", "case.png"):
            shutil.copy(tmp_path / name, os.path.join(os.environ["LINEWATCH_SCREENSHOTS"], name))
    page.close()
