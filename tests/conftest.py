"""Shared fixtures and the markers' skip rules.

- `services`: needs the machine's PostgreSQL/NATS/MQTT. Skipped when unreachable, except
  when LINEWATCH_REQUIRE_SERVICES=1 (set by .ci/run), where an unreachable service fails.
- `corpus`: reads ../shared/corpus; skipped when that folder is absent.
- `browser`: drives headless Chromium; skipped when none is installed, except when
  LINEWATCH_REQUIRE_BROWSER=1 (set by .ci/run).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Tests never touch the user's data folder: linewatch.paths uses a temporary one under pytest.

REPO = Path(__file__).resolve().parent.parent
TEST_SITES = REPO / "tests" / "data" / "sites"
DEMO_SITES = REPO / "src" / "linewatch" / "demo" / "sites"
CORPUS = REPO.parent / "shared" / "corpus"

ROLE_USERS = {
    # username: (role, sites, all_sites)
    "admin": ("admin", [], True),
    "analyst": ("security_analyst", [], True),
    "lead": ("site_security_lead", ["alpha"], False),
    "engineer": ("ot_engineer", ["alpha"], False),
    "auditor": ("auditor", [], True),
    "guard": ("guard", ["alpha"], False),
    "sensor": ("sensor", ["alpha"], False),
    "plant-node": ("node", ["alpha"], False),
}


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def browser():
    """Headless Chromium (Debian's) driven by Playwright. Playwright's sync API runs an event loop
    in the test's thread; Django refuses ORM calls from such a thread unless told, so the test may
    use the ORM beside the browser while this fixture is active."""
    from playwright.sync_api import sync_playwright

    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            launched = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
            try:
                yield launched
            finally:
                launched.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


def pytest_collection_modifyitems(config, items):
    require_browser = os.environ.get("LINEWATCH_REQUIRE_BROWSER") == "1"
    for item in items:
        if "corpus" in item.keywords and not CORPUS.is_dir():
            item.add_marker(pytest.mark.skip(reason=f"corpus folder {CORPUS} is absent"))
        if "browser" in item.keywords and not chromium_path() and not require_browser:
            item.add_marker(pytest.mark.skip(reason="no Chromium installed (apt-get install chromium)"))


@pytest.fixture
def alpha_beta(db):
    """The two small test sites (tests/data/sites), imported."""
    from linewatch.core.sitefile.importer import import_files

    import_files(sorted(str(p) for p in TEST_SITES.glob("*.yaml")))


@pytest.fixture
def role_users(alpha_beta):
    """One user per role, named as in ROLE_USERS, password 'correct-horse-battery'."""
    from django.contrib.auth import get_user_model

    from linewatch.core import accounts

    for username, (role, sites, all_sites) in ROLE_USERS.items():
        accounts.create_user(username, "correct-horse-battery", role, sites=sites, all_sites=all_sites)
    return {u.username: u for u in get_user_model().objects.filter(username__in=ROLE_USERS)}


@pytest.fixture
def demo_loaded(db):
    """The demo manufacturer, imported (a few seconds)."""
    from linewatch.core.sitefile.importer import import_files

    files = sorted(str(p) for p in DEMO_SITES.glob("*.yaml"))
    if not files:
        pytest.fail("the demo site files are missing")
    return import_files(files)


def services_required() -> bool:
    return os.environ.get("LINEWATCH_REQUIRE_SERVICES") == "1"


@pytest.fixture
def postgres(db):
    """The tests' database, when it is PostgreSQL (DATABASE_URL); skipped otherwise, failed in CI."""
    from django.db import connection

    if connection.vendor != "postgresql":
        message = "needs DATABASE_URL=postgresql://… (the machine's PostgreSQL on 127.0.0.1:5432)"
        if services_required():
            pytest.fail(message)
        pytest.skip(message)
    return connection


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests log in as many users: hash their passwords quickly (production keeps PBKDF2)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_model_caches():
    """The model caches are versioned by the newest audit-entry id; a rolled-back test can leave a later test the
    same id over other data (SQLite reuses ids), so each test starts with none. The pipeline's presence context
    (who badged in where, in process memory) starts empty too, as in a new worker."""
    from linewatch.core import services
    from linewatch.detect import context, worker

    services._graph_cache.clear()
    worker._default_context = context.ContextTracker()
