"""The UI in a real browser: Playwright driving the system's headless Chromium against the live server."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_SITES

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


@pytest.fixture
def analyst(transactional_db):
    """The test sites and one user; live_server flushes the database, so both are made here."""
    from linewatch.core import accounts
    from linewatch.core.sitefile.importer import import_files

    import_files(sorted(str(p) for p in TEST_SITES.glob("*.yaml")))
    accounts.create_user("analyst", PASSWORD, "security_analyst", all_sites=True)
    return "analyst"


def test_login_home_asset_search_and_screenshot(live_server, analyst, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    base = live_server.url

    # anonymous: sent to the login form
    page.goto(base + "/")
    assert "/login/" in page.url
    page.fill("#id_username", analyst)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")

    # home: both sites, with the cost at risk and the ownership-gap badge
    cards = page.locator(".site-card")
    assert cards.count() == 2
    home = page.inner_text("main")
    assert "Alpha plant" in home and "Beta warehouse" in home and "42,000" in home
    assert page.locator(".site-card .badge-bad").count() == 1
    assert "analyst" in page.inner_text("header")

    # asset page: consequence and owner
    page.goto(base + "/assets/alpha/plc-line1/")
    consequence = page.inner_text("#consequence")
    assert "Line 1 filling" in consequence and "42,000" in consequence and "Stopped" in consequence
    owner = page.inner_text("#owner")
    assert "Alpha OT engineering" in owner
    assert page.locator(".status-stopped").first.is_visible()

    # asset list: the search box filters
    page.goto(base + "/assets/")
    assert page.locator("table.assets tbody tr").count() == 11
    page.fill("input[name=q]", "hmi")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**/assets/?q=hmi*")
    rows = page.locator("table.assets tbody tr")
    assert rows.count() == 2
    assert {rows.nth(i).locator("td").first.inner_text().strip() for i in range(2)} == {"hmi-line1-a", "hmi-line1-b"}

    # zone diagram draws as SVG
    page.goto(base + "/sites/alpha/zones/")
    assert page.locator("svg.zone-diagram g.zone").count() == 3

    # the stylesheet is served and applied (not a bare page)
    page.goto(base + "/assets/alpha/plc-line1/")
    colour = page.eval_on_selector(".status-stopped", "e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(198, 40, 40)"
    shot = tmp_path / "asset.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000

    # logging out returns to the login page
    page.click("button:has-text('Log out')")
    page.wait_for_url("**/login/")
    page.close()
