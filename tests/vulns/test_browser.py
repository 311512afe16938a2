"""The risk register in a real browser: the analyst filters for known-exploited findings, sees the demo's Hikvision
camera ranked with its exposure and consequence, and opens the device page with the evidence of the match."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


@pytest.fixture
def register(transactional_db, demo_loaded):
    from linewatch.core import accounts
    from linewatch.vulns import demo

    demo.load()
    accounts.create_user("analyst", PASSWORD, "security_analyst", all_sites=True)


def test_filter_known_exploited_and_open_the_evidence(live_server, register, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    base = live_server.url
    page.goto(base + "/risk/")
    page.fill("#id_username", "analyst")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/risk/")
    page.select_option("select[name=kev]", "yes")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/risk/?*kev=yes*")
    rows = page.locator("#vuln-findings tbody tr")
    assert rows.count() >= 1
    first = rows.first.inner_text()
    assert "kol-cam-dock-03" in first and "CVE-2021-36260" in first and "KEV" in first and "confirmed" in first
    page.screenshot(path=str(tmp_path / "risk.png"), full_page=True)
    page.locator("#vuln-findings tbody tr").first.locator("a.strong").click()
    page.wait_for_url("**/risk/kolding/**")
    body = page.inner_text("main")
    assert "CVE-2021-36260" in body and "V5.5.0" in body  # the firmware the match rests on
