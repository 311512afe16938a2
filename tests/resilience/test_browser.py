"""The crisis room in a real browser: the roll-call bars move by themselves when answers arrive,
and a person answers on the public page without logging in."""

from __future__ import annotations

import re

import pytest

from tests.conftest import TEST_SITES

pytestmark = pytest.mark.browser
PASSWORD = "correct-horse-battery"


@pytest.fixture
def drill_live(transactional_db, monkeypatch):
    from linewatch.core import accounts
    from linewatch.core.models import Site
    from linewatch.core.sitefile.importer import import_files
    from linewatch.resilience import services

    monkeypatch.setenv("LINEWATCH_SMTP_RELAY", "127.0.0.1:2525")
    import_files(sorted(str(p) for p in TEST_SITES.glob("*.yaml")))
    accounts.create_user("lead", PASSWORD, "site_security_lead", sites=["alpha"])
    return services.declare(title="Browser drill", kind="natural", sites=[Site.objects.get(slug="alpha")],
                            by="lead", exercise=True)


def test_bars_refresh_and_the_public_answer_page_works(live_server, drill_live, browser):
    from linewatch.resilience import services
    from linewatch.response.models import Notification

    crisis = drill_live
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    base = live_server.url
    page.goto(f"{base}/crises/{crisis.uid}/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/crises/{crisis.uid}/")
    assert page.inner_text(".exercise-banner").startswith("EXERCISE")
    assert page.inner_text("[data-count=safe]") == "0"

    # Anna answers on her phone: no login, her personal link.
    token = re.search(r"/r/([^/\s]+)/", Notification.objects.get(person__key="p-anna").body)[1]
    phone = browser.new_page(viewport={"width": 400, "height": 800})
    phone.goto(f"{base}/r/{token}/")
    assert "are you safe?" in phone.inner_text("body")
    phone.click("button[value=safe]")
    phone.wait_for_selector("text=Recorded: Safe", timeout=10_000)

    # Tom answers at the kiosk; the open crisis room shows both within its 10 s refresh.
    rc = crisis.roll_calls.get()
    services.answer_at_kiosk(rc, rc.participants.get(person__key="p-tom").code, "need_help", "guard")
    page.wait_for_function("document.querySelector('[data-count=safe]').textContent === '1'", timeout=15_000)
    assert page.inner_text("[data-count=need_help]") == "1"
    width = page.get_attribute(".tallybar .bar-safe", "style")
    assert width == "width: 50.0%"
