"""An evidence pack from the site page in a real browser: the site security lead picks the week, downloads the
pack, and the offline verifier passes it with the site's keys."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


@pytest.fixture
def week(transactional_db, alpha_beta, tmp_path):
    from linewatch.core import accounts
    from tests.evidence.test_db_pack import site_pack

    pack, alpha = site_pack.__wrapped__(alpha_beta, tmp_path)
    accounts.create_user("lead", PASSWORD, "site_security_lead", sites=["alpha"])
    return alpha


def test_download_a_pack_from_the_site_page_and_verify_it(live_server, week, browser, tmp_path):
    from linewatch.evidence.engine.verify import verify_pack
    from tests.evidence.test_db_pack import keys_for

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    base = live_server.url
    page.goto(base + "/evidence/alpha/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/evidence/alpha/")
    form = page.locator("form:has(input[name=action][value=pack])")
    form.locator("input[name=from]").fill("2026-03-01")
    form.locator("input[name=to]").fill("2026-03-07")
    with page.expect_download() as download:
        form.locator("button[type=submit]").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    report = verify_pack(saved, keys_for(week))
    assert report.ok, report.failures
    assert any(c["id"] == "physical-patrols" and c["ok"] for c in report.controls)
