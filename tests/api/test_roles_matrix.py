"""The whole role × endpoint matrix of the API, with site scoping.

Every operation in the OpenAPI document must appear in ENDPOINTS with the capability it needs;
a new endpoint without an entry fails this test. Each role calls each endpoint with an object
of its own site (alpha) and of another site (beta): the expected status follows from
ROLE_CAPABILITIES, so the table of roles is tested, not restated.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from linewatch.api.api import api
from linewatch.core import accounts
from linewatch.core.models import Asset, Site
from linewatch.core.permissions import ROLE_CAPABILITIES, Cap
from linewatch.events.schema import Event, EventClass, event_uid
from tests.conftest import ROLE_USERS


@dataclass(frozen=True)
class Endpoint:
    cap: Cap | None  # None: any signed-in user
    per_site: bool  # does the object or query belong to one site?
    denied_elsewhere: int = 404  # status when the object is at a site the role does not see
    ok: int = 200
    every_site: bool = False  # needs the capability at every site of the organisation (else 403)


ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("GET", "/api/v1/me"): Endpoint(None, False),
    ("GET", "/api/v1/sites"): Endpoint(Cap.VIEW_SITES, False),
    ("GET", "/api/v1/sites/{slug}"): Endpoint(Cap.VIEW_SITES, True),
    ("GET", "/api/v1/zones"): Endpoint(Cap.VIEW_PLANT, False),
    ("GET", "/api/v1/conduits"): Endpoint(Cap.VIEW_PLANT, False),
    ("GET", "/api/v1/assets"): Endpoint(Cap.VIEW_SITES, False),
    ("GET", "/api/v1/assets/{asset_id}"): Endpoint(Cap.VIEW_SITES, True),
    ("PATCH", "/api/v1/assets/{asset_id}"): Endpoint(Cap.EDIT_PLANT, True),
    ("GET", "/api/v1/lines"): Endpoint(Cap.VIEW_PLANT, False),
    ("GET", "/api/v1/teams"): Endpoint(Cap.VIEW_PLANT, False),
    ("GET", "/api/v1/ownership/gaps"): Endpoint(Cap.VIEW_PLANT, False),
    ("GET", "/api/v1/consequence"): Endpoint(Cap.VIEW_PLANT, True, denied_elsewhere=400),
    ("GET", "/api/v1/people"): Endpoint(Cap.VIEW_PEOPLE, False),
    ("GET", "/api/v1/audit"): Endpoint(Cap.VIEW_AUDIT, False),
    ("GET", "/api/v1/sites/{slug}/export"): Endpoint(Cap.EXPORT, True),
    ("POST", "/api/v1/sites/import"): Endpoint(Cap.EDIT_PLANT, True, denied_elsewhere=403),
    ("POST", "/api/v1/events"): Endpoint(Cap.INGEST_EVENTS, True, denied_elsewhere=403),
    ("GET", "/api/v1/alerts"): Endpoint(Cap.VIEW_ALERTS, False),
    ("GET", "/api/v1/alerts/{uid}"): Endpoint(Cap.VIEW_ALERTS, True),
    ("POST", "/api/v1/alerts/{uid}/acknowledge"): Endpoint(Cap.HANDLE_ALERTS, True),
    ("POST", "/api/v1/alerts/{uid}/assign"): Endpoint(Cap.HANDLE_ALERTS, True),
    ("POST", "/api/v1/alerts/{uid}/close"): Endpoint(Cap.HANDLE_ALERTS, True),
    ("POST", "/api/v1/alerts/{uid}/comment"): Endpoint(Cap.HANDLE_ALERTS, True),
    ("GET", "/api/v1/cases"): Endpoint(Cap.VIEW_ALERTS, False),
    ("GET", "/api/v1/cases/{case_uid}"): Endpoint(Cap.VIEW_ALERTS, True),
    ("GET", "/api/v1/discovered"): Endpoint(Cap.VIEW_PLANT, False),
    # -- discovery (add this domain's rows below this line) --
    ("GET", "/api/v1/discovered/findings"): Endpoint(Cap.VIEW_PLANT, False),
    # -- vulns (add this domain's rows below this line) --
    ("GET", "/api/v1/vulns/findings"): Endpoint(Cap.VIEW_PLANT, False),
    ("GET", "/api/v1/vulns/findings/{finding_id}"): Endpoint(Cap.VIEW_PLANT, True),
    ("POST", "/api/v1/vulns/findings/{finding_id}/status"): Endpoint(Cap.HANDLE_ALERTS, True),
    # -- segmentation (add this domain's rows below this line) --
    ("GET", "/api/v1/segmentation/{slug}"): Endpoint(Cap.VIEW_PLANT, True),
    # -- workforce (add this domain's rows below this line) --
    ("GET", "/api/v1/workforce/credentials"): Endpoint(Cap.VIEW_PEOPLE, False),
    ("GET", "/api/v1/workforce/sites/{slug}/roster"): Endpoint(Cap.VIEW_SITES, True),
    ("GET", "/api/v1/workforce/access-issues"): Endpoint(Cap.VIEW_PEOPLE, False),
    ("GET", "/api/v1/workforce/sites/{slug}/visits"): Endpoint(Cap.VIEW_PEOPLE, True),
    ("POST", "/api/v1/workforce/sites/{slug}/visits"): Endpoint(Cap.EDIT_PEOPLE, True, ok=201),
    ("GET", "/api/v1/workforce/visits/{code}"): Endpoint(Cap.VIEW_PEOPLE, True),
    ("GET", "/api/v1/workforce/visits/{code}/badge.pdf"): Endpoint(Cap.VIEW_PEOPLE, True),
    ("POST", "/api/v1/workforce/visits/{code}/cancel"): Endpoint(Cap.EDIT_PEOPLE, True),
    # the matrix sends no acknowledgements, escorts nobody of the site and checks out a visitor never checked in:
    # a caller allowed to act gets the service's refusal (400)
    ("POST", "/api/v1/workforce/visits/{code}/check-in"): Endpoint(Cap.EDIT_PEOPLE, True, ok=400),
    ("POST", "/api/v1/workforce/visits/{code}/escort"): Endpoint(Cap.EDIT_PEOPLE, True, ok=400),
    ("POST", "/api/v1/workforce/visits/{code}/check-out"): Endpoint(Cap.EDIT_PEOPLE, True, ok=400),
    ("GET", "/api/v1/workforce/watchlist"): Endpoint(Cap.VIEW_PEOPLE, False),
    ("POST", "/api/v1/workforce/watchlist"): Endpoint(Cap.EDIT_PEOPLE, False, ok=201),
    ("GET", "/api/v1/workforce/watchlist/hits"): Endpoint(Cap.VIEW_PEOPLE, False),
    ("GET", "/api/v1/workforce/watchlist/{entry_id}"): Endpoint(Cap.VIEW_PEOPLE, False),
    ("PATCH", "/api/v1/workforce/watchlist/{entry_id}"): Endpoint(Cap.EDIT_PEOPLE, False, every_site=True),
    # -- resilience (add this domain's rows below this line) --
    ("GET", "/api/v1/resilience/status"): Endpoint(Cap.VIEW_SITES, False),
    ("GET", "/api/v1/resilience/crises"): Endpoint(Cap.VIEW_SITES, False),
    # the gateways' reply webhooks: the matrix posts no reply, so a caller allowed to send one gets 400 (refused)
    ("POST", "/api/v1/resilience/rollcall/sms"): Endpoint(Cap.INGEST_EVENTS, False, ok=400),
    ("POST", "/api/v1/resilience/rollcall/email"): Endpoint(Cap.INGEST_EVENTS, False, ok=400),
    # -- patrols (add this domain's rows below this line) --
    ("POST", "/api/v1/patrols/sync"): Endpoint(Cap.PATROL, False),
    ("GET", "/api/v1/patrols/sites/{slug}/tours"): Endpoint(Cap.PATROL, True),
    ("GET", "/api/v1/patrols/runs"): Endpoint(Cap.VIEW_PEOPLE, False),
    # -- evidence (add this domain's rows below this line) --
    ("GET", "/api/v1/evidence/sites"): Endpoint(Cap.VIEW_AUDIT, False),
    ("GET", "/api/v1/evidence/sites/{slug}/entries"): Endpoint(Cap.VIEW_AUDIT, True),
    ("GET", "/api/v1/evidence/sites/{slug}/checkpoints"): Endpoint(Cap.VIEW_AUDIT, True),
    ("POST", "/api/v1/evidence/sites/{slug}/checkpoint"): Endpoint(Cap.VIEW_AUDIT, True),
    ("GET", "/api/v1/evidence/sites/{slug}/proofs/inclusion"): Endpoint(Cap.VIEW_AUDIT, True),
    ("GET", "/api/v1/evidence/sites/{slug}/proofs/consistency"): Endpoint(Cap.VIEW_AUDIT, True),
    ("GET", "/api/v1/evidence/sites/{slug}/pack"): Endpoint(Cap.VIEW_AUDIT, True),
    ("GET", "/api/v1/evidence/sites/{slug}/export"): Endpoint(Cap.VIEW_AUDIT, True),
    ("GET", "/api/v1/evidence/partners"): Endpoint(Cap.VIEW_AUDIT, False),
    # partner tokens only: every user token is refused (tests/evidence/test_partners.py covers partner tokens)
    ("POST", "/api/v1/evidence/partner/packs"): Endpoint(None, False, ok=401),
    ("POST", "/api/v1/evidence/partner/incidents"): Endpoint(None, False, ok=401),
    ("GET", "/api/v1/evidence/partner/submissions"): Endpoint(None, False, ok=401),
    # -- nodes --
    ("POST", "/api/v1/notifications/receipts"): Endpoint(Cap.INGEST_EVENTS, False, ok=400),  # no such message
    ("POST", "/api/v1/nodes/push"): Endpoint(Cap.SYNC_NODE, True, denied_elsewhere=403),
    ("GET", "/api/v1/nodes/pull"): Endpoint(Cap.SYNC_NODE, True, denied_elsewhere=403),
}

# One alert per site about its camera (which guards may see), and one about alpha's PLC (which
# they may not); uids are deterministic, so the page matrix can name them in its table too.
MATRIX_RULE = "lw-test-matrix"


def matrix_events() -> dict[str, Event]:
    t = 1764000000000
    return {
        "alpha": Event(uid="matrix-alpha-camera", time=t, class_uid=EventClass.NETWORK_ACTIVITY, site="alpha",
                       source="test", attrs={"src_endpoint.ip": "10.1.4.77", "dst_endpoint.ip": "10.1.4.50"}),
        "beta": Event(uid="matrix-beta-camera", time=t, class_uid=EventClass.SURVEILLANCE_DEVICE, activity_id=2,
                      site="beta", source="test", attrs={"device.name": "cam-gate"}),
        "alpha-plc": Event(uid="matrix-alpha-plc", time=t, class_uid=EventClass.CONTROLLER_ACTIVITY, activity_id=1,
                           site="alpha", source="test",
                           attrs={"src_endpoint.ip": "10.1.4.77", "dst_endpoint.ip": "10.1.11.10"}),
    }


ALERT_UIDS = {key: event_uid("alert", MATRIX_RULE, e.uid) for key, e in matrix_events().items()}
CASE_UIDS = {key: event_uid("case", uid) for key, uid in ALERT_UIDS.items()}


def record_matrix_alerts() -> None:
    from linewatch.detect.alerts import Detection, record_alert
    from linewatch.detect.cases import assign_case
    from linewatch.events.store import store_events

    for key, event in matrix_events().items():
        store_events([event])
        alert, _ = record_alert(Detection(MATRIX_RULE, f"Unexpected traffic ({key})", "medium", events=[event]))
        assign_case(alert)


@pytest.fixture(autouse=True)
def matrix_alerts(request):
    """The alerts above, wherever the role users exist."""
    if "role_users" in request.fixturenames:
        request.getfixturevalue("role_users")
        record_matrix_alerts()
        from tests.vulns.test_services import record_matrix_findings

        record_matrix_findings()
        from tests.workforce.matrix import record_matrix_workforce

        record_matrix_workforce()


def operations() -> set[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return {(method.upper(), path) for path, item in schema["paths"].items() for method in item}


def test_every_api_operation_is_in_the_matrix():
    assert operations() == set(ENDPOINTS), "add new endpoints to ENDPOINTS with the capability they need"


def request_for(client, method: str, path: str, site: str, token: str):
    """Call the endpoint about an object of `site`: a camera (which guards may see) or the site."""
    camera = Asset.objects.filter(site__slug=site, kind="camera").first()
    url = (path.replace("{slug}", site).replace("{asset_id}", str(camera.pk)).replace("{uid}", ALERT_UIDS[site])
           .replace("{case_uid}", CASE_UIDS[site]))
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if path.startswith(("/api/v1/workforce/visits", "/api/v1/workforce/watchlist")) or path.endswith("/visits"):
        from tests.workforce.matrix import workforce_request

        return workforce_request(client, method, path, url, site, headers)
    if "{finding_id}" in url:  # the camera's vulnerability finding (tests/vulns/test_services.py)
        from tests.vulns.test_services import matrix_finding_id

        url = url.replace("{finding_id}", str(matrix_finding_id(site)))
        if method == "POST":
            return client.post(url, {"status": "accepted", "why": "matrix test"}, content_type="application/json",
                               **headers)
    if "/nodes/" in path:  # a node's own record of the site (the account name is the node name)
        if method == "GET":
            return client.get(f"{url}?site={site}", **headers)
        origin = accounts.user_for_token(token).get_username()
        record = {"origin": origin, "site": site, "seq": 1, "kind": "event", "key": f"matrix-{origin}-{site}",
                  "body": {"uid": f"matrix-{origin}-{site}", "time": 1764000000000, "class_uid": 4001,
                           "source": "test", "site": site}}
        return client.post(url, {"records": [record]}, content_type="application/json", **headers)
    if method == "POST" and "/alerts/" in path:
        body = {"acknowledge": {"note": "on it"}, "assign": {"to": "team:alpha-it"},
                "close": {"reason": "matrix test"}, "comment": {"text": "seen"}}[path.rsplit("/", 1)[1]]
        return client.post(url, body, content_type="application/json", **headers)
    if path.endswith("/consequence"):
        url += f"?asset={site}/{camera.name}"
    if method == "PATCH":
        return client.patch(url, {"description": "checked"}, content_type="application/json", **headers)
    if method == "POST" and path.endswith("/patrols/sync"):
        return client.post(url, {"items": []}, content_type="application/json", **headers)
    if method == "POST" and path.endswith("/events"):
        line = '{"class_uid": 4001, "time": 1764000000000, "source": "test", "attrs": {"src_endpoint.ip": "10.1.4.9"}}'
        return client.post(f"{url}?site={site}", line, content_type="application/x-ndjson", **headers)
    if method == "POST":
        from linewatch.core.sitefile.exporter import export_text

        body = export_text(Site.objects.get(slug=site))
        return client.post(url, body, content_type="application/yaml", **headers)
    return client.get(url, **headers)


def expected(role: str, endpoint: Endpoint, own_site: bool) -> int:
    caps = ROLE_CAPABILITIES[role]
    if endpoint.cap is None:
        return endpoint.ok
    if endpoint.cap not in caps:
        return 403
    _, sites, all_sites = next(v for v in ROLE_USERS.values() if v[0] == role)
    sees_everything = all_sites or role in {"admin", "security_analyst"}
    if endpoint.every_site and not sees_everything:
        return 403
    if endpoint.per_site and not own_site and not sees_everything:
        return endpoint.denied_elsewhere
    return endpoint.ok


@pytest.mark.parametrize("username", list(ROLE_USERS))
def test_role_endpoint_matrix(client, role_users, username):
    user = role_users[username]
    token = accounts.create_token(user, "matrix")
    role = ROLE_USERS[username][0]
    failures = []
    for (method, path), endpoint in sorted(ENDPOINTS.items()):
        for site in ("alpha", "beta"):
            response = request_for(client, method, path, site, token)
            want = expected(role, endpoint, own_site=site == "alpha")
            if response.status_code != want:
                failures.append(f"{method} {path} at {site}: got {response.status_code}, want {want}")
    assert not failures, f"{username} ({role}):\n" + "\n".join(failures)


@pytest.mark.parametrize("username", list(ROLE_USERS))
def test_lists_never_leak_other_sites(client, role_users, username):
    token = accounts.create_token(role_users[username], "leak")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    role, sites, all_sites = ROLE_USERS[username]
    for path in ("/api/v1/sites", "/api/v1/assets", "/api/v1/zones", "/api/v1/lines", "/api/v1/people",
                 "/api/v1/audit", "/api/v1/discovered", "/api/v1/discovered/findings"):
        response = client.get(path, **headers)
        if response.status_code != 200:
            continue
        seen = {row.get("site") or row.get("slug") for row in response.json()}
        if not all_sites and role not in {"admin", "security_analyst"}:
            assert seen <= set(sites) | {""}, (path, seen)


def test_unauthenticated_calls_are_refused(client, alpha_beta):
    for method, path in ENDPOINTS:
        url = path.replace("{slug}", "alpha").replace("{asset_id}", "1")
        response = client.generic(method, url)
        assert response.status_code == 401, (method, path, response.status_code)


def test_bad_and_expired_tokens_are_refused(client, role_users):
    import datetime as dt

    from django.utils import timezone

    assert client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer lw_nope").status_code == 401
    old = accounts.create_token(role_users["admin"], "old", expires=timezone.now() - dt.timedelta(days=1))
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {old}").status_code == 401
    role_users["admin"].is_active = False
    role_users["admin"].save()
    fresh = accounts.create_token(role_users["admin"], "fresh")
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {fresh}").status_code == 401


def test_session_writes_need_the_csrf_token(role_users):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(role_users["admin"])
    asset = Asset.objects.get(name="cam-1")
    refused = browser.patch(f"/api/v1/assets/{asset.pk}", {"description": "x"}, content_type="application/json")
    assert refused.status_code == 403
    browser.get("/api/v1/me")  # any GET sets the CSRF cookie? not for the API: fetch it from the login page
    browser.get("/login/")
    token = browser.cookies["csrftoken"].value
    accepted = browser.patch(f"/api/v1/assets/{asset.pk}", {"description": "x"}, content_type="application/json",
                             HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200


def test_api_docs_need_a_login(client, role_users):
    assert client.get("/api/v1/openapi.json").status_code == 302
    client.force_login(role_users["guard"])
    assert client.get("/api/v1/openapi.json").status_code == 200
