"""The role × page matrix: every web route, for every role, answers 200, 403 or 404 exactly as
the capability table (`ROLE_CAPABILITIES`) and the role's sites say.

`ROUTES` names the capability each route needs. A web route missing from it fails
`test_every_web_route_is_in_the_table`, so no page ships without a decision on who may see it.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from linewatch.core.choices import ASSET_KIND_DOMAIN, Domain
from linewatch.core.permissions import ALL_SITE_ROLES, ROLE_CAPABILITIES, Cap
from tests.api.test_roles_matrix import ALERT_UIDS, CASE_UIDS, record_matrix_alerts
from tests.conftest import ROLE_USERS
from tests.discovery.test_pages import MATRIX_KEYS, record_matrix_devices
from tests.patrols.matrix import PHOTO_UIDS as PATROL_PHOTOS
from tests.patrols.matrix import RUN_UIDS as PATROL_RUNS
from tests.patrols.matrix import record_matrix_patrols
from tests.resilience.test_pages import MATRIX_RUNBOOK, MATRIX_UIDS, record_matrix_crises
from tests.workforce.matrix import COMPANIES as WF_COMPANIES
from tests.workforce.matrix import PEOPLE as WF_PEOPLE
from tests.workforce.matrix import REVIEW as WF_REVIEW
from tests.workforce.matrix import WATCHLIST_ENTRY as WF_WATCHLIST_ENTRY
from tests.workforce.matrix import record_matrix_workforce

PUBLIC = "public"  # no login needed
POST_ONLY = "post"  # any signed-in user, by POST


# url name -> (capability the page needs anywhere, path parameters as (site, kwargs) cases)
# An object case names the site it belongs to and, for assets, its kind (guards see only
# physical-security devices).
ROUTES: dict[str, tuple[str | Cap, list[dict]]] = {
    "login": (PUBLIC, [{}]),
    "logout": (POST_ONLY, [{}]),
    "home": (Cap.VIEW_SITES, [{}]),
    "sites": (Cap.VIEW_SITES, [{}]),
    "site": (Cap.VIEW_SITES, [
        {"site": "alpha", "kwargs": {"slug": "alpha"}},
        {"site": "beta", "kwargs": {"slug": "beta"}},
    ]),
    "zones": (Cap.VIEW_PLANT, [{}]),
    "site_zones": (Cap.VIEW_PLANT, [
        {"site": "alpha", "kwargs": {"slug": "alpha"}},
        {"site": "beta", "kwargs": {"slug": "beta"}},
    ]),
    "assets": (Cap.VIEW_SITES, [{}]),
    "asset": (Cap.VIEW_SITES, [
        {"site": "alpha", "kind": "plc", "kwargs": {"site": "alpha", "name": "plc-line1"}},
        {"site": "alpha", "kind": "camera", "kwargs": {"site": "alpha", "name": "cam-1"}},
        {"site": "beta", "kind": "camera", "kwargs": {"site": "beta", "name": "cam-gate"}},
        {"site": "beta", "kind": "server", "kwargs": {"site": "beta", "name": "wms-1"}},
    ]),
    "lines": (Cap.VIEW_PLANT, [{}]),
    "line": (Cap.VIEW_PLANT, [
        {"site": "alpha", "kwargs": {"site": "alpha", "slug": "line-1"}},
        {"site": "beta", "kwargs": {"site": "beta", "slug": "dispatch"}},
    ]),
    "ownership": (Cap.VIEW_PLANT, [{}]),
    "alerts": (Cap.VIEW_ALERTS, [{}]),
    "incidents": (Cap.VIEW_ALERTS, [{}]),
    # the live stream is no page of its own (not in the navigation): the note keeps it out of that check
    "alert_stream": (Cap.VIEW_ALERTS, [{"note": "server-sent events of the alerts page"}]),
    "alert": (Cap.VIEW_ALERTS, [
        {"site": "alpha", "kind": "camera", "kwargs": {"uid": ALERT_UIDS["alpha"]}},
        {"site": "alpha", "kind": "plc", "kwargs": {"uid": ALERT_UIDS["alpha-plc"]}},
        {"site": "beta", "kind": "camera", "kwargs": {"uid": ALERT_UIDS["beta"]}},
    ]),
    "cases": (Cap.VIEW_ALERTS, [{}]),
    "case": (Cap.VIEW_ALERTS, [
        {"site": "alpha", "kind": "camera", "kwargs": {"uid": CASE_UIDS["alpha"]}},
        {"site": "alpha", "kind": "plc", "kwargs": {"uid": CASE_UIDS["alpha-plc"]}},
        {"site": "beta", "kind": "camera", "kwargs": {"uid": CASE_UIDS["beta"]}},
    ]),
    "discovered": (Cap.VIEW_PLANT, [{}]),
    "discovered_device": (Cap.VIEW_PLANT, [
        {"site": "alpha", "kwargs": {"site": "alpha", "key": MATRIX_KEYS["alpha"]}},
        {"site": "beta", "kwargs": {"site": "beta", "key": MATRIX_KEYS["beta"]}},
    ]),
    # -- discovery (add this domain's rows below this line) --
    # -- vulns (add this domain's rows below this line) --
    "risk_register": (Cap.VIEW_PLANT, [{}]),
    "vuln_subject": (Cap.VIEW_PLANT, [
        {"site": "alpha", "kwargs": {"site": "alpha", "kind": "asset", "key": "cam-1"}},
        {"site": "beta", "kwargs": {"site": "beta", "kind": "asset", "key": "cam-gate"}},
    ]),
    # -- segmentation (add this domain's rows below this line) --
    "segmentation": (Cap.VIEW_PLANT, [{}]),
    "site_segmentation": (Cap.VIEW_PLANT, [
        {"site": "alpha", "kwargs": {"slug": "alpha"}},
        {"site": "beta", "kwargs": {"slug": "beta"}},
    ]),
    # -- workforce (add this domain's rows below this line) --
    "workforce_people": (Cap.VIEW_PEOPLE, [{}]),
    "workforce_person": (Cap.VIEW_PEOPLE, [{"site": s, "kwargs": {"key": k}} for s, k in WF_PEOPLE.items()]),
    "workforce_offboard": (Cap.EDIT_PEOPLE, [{"site": s, "kwargs": {"key": k}} for s, k in WF_PEOPLE.items()]),
    "workforce_company": (Cap.VIEW_PEOPLE, [{"site": s, "kwargs": {"slug": c}} for s, c in WF_COMPANIES.items()]),
    "workforce_access": (Cap.VIEW_PEOPLE, [{}]),
    "workforce_rosters": (Cap.VIEW_SITES, [{}]),
    "workforce_roster": (Cap.VIEW_SITES, [{"site": s, "kwargs": {"slug": s}} for s in WF_PEOPLE]),
    "workforce_reviews": (Cap.VIEW_PEOPLE, [{}]),
    "workforce_review": (Cap.VIEW_PEOPLE, [{"site": s, "kwargs": {"site": s, "slug": WF_REVIEW}} for s in WF_PEOPLE]),
    "workforce_visits": (Cap.VIEW_PEOPLE, [{}]),
    "workforce_visit_new": (Cap.EDIT_PEOPLE, [{"site": s, "kwargs": {"site": s}} for s in WF_PEOPLE]),
    "workforce_kiosk": (Cap.EDIT_PEOPLE, [{"site": s, "kwargs": {"site": s}} for s in WF_PEOPLE]),
    "workforce_visit": (Cap.VIEW_PEOPLE, [{"site": s, "kwargs": {"code": f"matrix-{s}"}} for s in WF_PEOPLE]),
    "workforce_visit_checkin": (Cap.EDIT_PEOPLE, [{"site": s, "kwargs": {"code": f"matrix-{s}"}} for s in WF_PEOPLE]),
    "workforce_visit_badge": (Cap.VIEW_PEOPLE, [{"site": s, "kwargs": {"code": f"matrix-{s}"}} for s in WF_PEOPLE]),
    # the watchlist is organisation-wide and reached from the workforce tabs (no main-navigation entry);
    # changing an entry needs EDIT_PEOPLE at every site: tests/workforce/test_watchlist_ui.py
    "workforce_watchlist": (Cap.VIEW_PEOPLE, [{"note": "a tab of the visitors section"}]),
    "workforce_watchlist_new": (Cap.EDIT_PEOPLE, [{"note": "a tab of the visitors section"}]),
    "workforce_watchlist_hits": (Cap.VIEW_PEOPLE, [{"note": "a tab of the visitors section"}]),
    "workforce_watchlist_entry": (Cap.VIEW_PEOPLE, [{"kwargs": {"entry_id": WF_WATCHLIST_ENTRY}}]),
    # -- resilience (add this domain's rows below this line) --
    "crises": (Cap.VIEW_SITES, [{}]),
    "crisis": (Cap.VIEW_SITES, [{"site": s, "kwargs": {"uid": MATRIX_UIDS[s]}} for s in ("alpha", "beta")]),
    "crisis_unaccounted": (Cap.VIEW_PEOPLE, [{"site": s, "kwargs": {"uid": MATRIX_UIDS[s], "site": s}}
                                             for s in ("alpha", "beta")]),
    "crisis_kiosk": (Cap.VIEW_SITES, [{"site": s, "kwargs": {"uid": MATRIX_UIDS[s], "site": s}}
                                      for s in ("alpha", "beta")]),
    "crisis_runbook": (Cap.VIEW_SITES, [{"site": s, "kwargs": {"uid": MATRIX_UIDS[s], "site": s,
                                                                "slug": MATRIX_RUNBOOK}} for s in ("alpha", "beta")]),
    # The personal roll-call answer link: no login (the signed, single-use, expiring token is the
    # credential, checked on every request); a bad token gets 200 with the reason it was refused.
    "rollcall_answer": (PUBLIC, [{"kwargs": {"token": "matrix-not-a-token"}, "note": "token-checked, no login"}]),
    # -- patrols (add this domain's rows below this line) --
    "patrol": (Cap.PATROL, [{}]),
    "patrol_report": (Cap.PATROL, [{}]),
    "patrol_sw": (Cap.PATROL, [{"note": "the guard page's service worker script"}]),
    "patrol_nfc": (Cap.PATROL, [{"site": "alpha", "kwargs": {"site": "alpha", "code": "hall"}},
                                {"site": "beta", "kwargs": {"site": "beta", "code": "hall"}}]),
    "patrol_runs": (Cap.VIEW_PEOPLE, [{}]),
    "patrol_run": (Cap.VIEW_PEOPLE, [{"site": s, "kwargs": {"uid": PATROL_RUNS[s]}} for s in ("alpha", "beta")]),
    "patrol_photo": (Cap.VIEW_PEOPLE, [{"site": s, "kwargs": {"uid": PATROL_PHOTOS[s]}} for s in ("alpha", "beta")]),
    "patrol_sheet": (Cap.EDIT_PLANT, [{"site": s, "kwargs": {"site": s, "tour": "night"}} for s in ("alpha", "beta")]),
    # -- evidence (add this domain's rows below this line) --
    "evidence": (Cap.VIEW_AUDIT, [{}]),
    "evidence_partners": (Cap.VIEW_AUDIT, [{}]),
    "evidence_site": (Cap.VIEW_AUDIT, [
        {"site": "alpha", "kwargs": {"slug": "alpha"}},
        {"site": "beta", "kwargs": {"slug": "beta"}},
    ]),
    "evidence_site_partners": (Cap.VIEW_AUDIT, [
        {"site": "alpha", "kwargs": {"slug": "alpha"}},
        {"site": "beta", "kwargs": {"slug": "beta"}},
    ]),
}


@pytest.fixture(autouse=True)
def site_alerts(request):
    """The alerts and cases the table names (tests/api/test_roles_matrix.py records them)."""
    if "role_users" in request.fixturenames:
        request.getfixturevalue("role_users")
        record_matrix_alerts()
        record_matrix_devices()
        record_matrix_crises()
        record_matrix_workforce()
        record_matrix_patrols()


def web_routes() -> dict[str, list[str]]:
    """Every named route of the `web` namespace, with its path parameters."""
    _, resolver = get_resolver().namespace_dict["web"]
    found: dict[str, list[str]] = {}

    def walk(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern):
                assert p.name, f"web route {p.pattern} has no name"
                found[p.name] = sorted(p.pattern.converters)

    walk(resolver.url_patterns)
    return found


def test_every_web_route_is_in_the_table():
    routes = web_routes()
    missing = set(routes) - set(ROUTES)
    assert not missing, f"add these web routes to ROUTES with the capability they need: {sorted(missing)}"
    assert not set(ROUTES) - set(routes), "ROUTES names routes that no longer exist"
    for name, params in routes.items():
        for case in ROUTES[name][1]:
            assert sorted(case.get("kwargs", {})) == params, f"{name}: fill parameters {params}"


def sees_site(username: str, site: str) -> bool:
    role, sites, all_sites = ROLE_USERS[username]
    return all_sites or role in ALL_SITE_ROLES or site in sites


def expected_status(username: str, cap: Cap, case: dict) -> int:
    caps = ROLE_CAPABILITIES[ROLE_USERS[username][0]]
    if cap not in caps:
        return 403
    if "site" not in case:
        return 200
    # an object is found only at sites the role sees; a non-physical asset needs VIEW_PLANT there
    needed = cap
    if "kind" in case and ASSET_KIND_DOMAIN[case["kind"]] != Domain.PHYSICAL:
        needed = Cap.VIEW_PLANT
    if needed not in caps or not sees_site(username, case["site"]):
        return 404
    return 200


def matrix():
    for name, (cap, cases) in ROUTES.items():
        for case in cases:
            label = "-".join(str(v) for v in case.get("kwargs", {}).values()) or "list"
            for username in ROLE_USERS:
                yield pytest.param(name, cap, case, username, id=f"{name}[{label}]-{username}")


@pytest.mark.parametrize(("name", "cap", "case", "username"), list(matrix()))
def test_role_page_matrix(client, role_users, name, cap, case, username):
    url = reverse(f"web:{name}", kwargs=case.get("kwargs", {}))
    client.force_login(role_users[username])
    if cap == PUBLIC:
        assert client.get(url).status_code == 200
        return
    if cap == POST_ONLY:
        assert client.get(url).status_code == 405
        response = client.post(url)
        assert response.status_code == 302 and client.get(reverse("web:home")).status_code == 302
        return
    response = client.get(url)
    assert response.status_code == expected_status(username, cap, case), (
        f"{username} ({ROLE_USERS[username][0]}) on {url}")


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ROUTES))
def test_anonymous_users_are_sent_to_login(client, name, alpha_beta):
    cap, cases = ROUTES[name]
    url = reverse(f"web:{name}", kwargs=cases[0].get("kwargs", {}))
    response = client.post(url) if cap == POST_ONLY else client.get(url)
    if cap == PUBLIC:
        assert response.status_code == 200
    elif cap == POST_ONLY:
        assert response.status_code == 302  # logging out while logged out just lands on the login page
    else:
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_a_user_without_any_role_gets_403_everywhere(client, role_users):
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("nobody", password="x" * 16)
    client.force_login(nobody)
    for name, (cap, cases) in ROUTES.items():
        if cap in (PUBLIC, POST_ONLY):
            continue
        for case in cases:
            url = reverse(f"web:{name}", kwargs=case.get("kwargs", {}))
            assert client.get(url).status_code == 403, url


def test_navigation_links_only_to_pages_the_role_may_open(client, role_users):
    import re

    for username in ROLE_USERS:
        client.force_login(role_users[username])
        page = client.get(reverse("web:home")).content.decode()
        nav = page[page.index('<nav class="mainnav"'): page.index("</nav>")]
        links = re.findall(r'href="([^"]+)"', nav)
        caps = ROLE_CAPABILITIES[ROLE_USERS[username][0]]
        expected = {reverse(f"web:{n}") for n, (cap, cases) in ROUTES.items()
                    if cases == [{}] and isinstance(cap, Cap) and cap in caps}
        assert set(links) == expected, username
        for link in links:
            assert client.get(link).status_code == 200, (username, link)
