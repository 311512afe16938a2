"""The web pages render real content for the roles that may see them, and nothing beyond."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from linewatch.core.models import Asset, Ownership


@pytest.fixture
def as_user(client, role_users):
    def login(username: str):
        client.force_login(role_users[username])
        return client

    return login


def asset_url(site: str, name: str) -> str:
    return reverse("web:asset", args=[site, name])


def text(response) -> str:
    """The page without tags and with collapsed whitespace, for content assertions."""
    return text_of(response.content.decode())


def section(response, html_id: str) -> str:
    """The text of the <section id=...> of a page."""
    page = response.content.decode()
    start = page.index(f'id="{html_id}"')
    return text_of(page[start: page.index("</section>", start)])


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ---------------------------------------------------------------- login, logout, anonymous


@pytest.mark.django_db
def test_anonymous_is_redirected_to_login(client):
    for url in (reverse("web:home"), reverse("web:assets"), asset_url("alpha", "plc-line1")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


@pytest.mark.django_db
def test_login_page_renders_without_navigation(client):
    response = client.get(reverse("web:login"))
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()
    assert "csrfmiddlewaretoken" in response.content.decode()
    assert "Log out" not in response.content.decode()


def test_login_and_logout(client, role_users):
    response = client.post(reverse("web:login"), {"username": "lead", "password": "correct-horse-battery"})
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "lead" in text(home)
    assert client.get(reverse("web:logout")).status_code == 405  # logging out needs a POST
    response = client.post(reverse("web:logout"))
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_wrong_password_shows_error(client, role_users):
    response = client.post(reverse("web:login"), {"username": "lead", "password": "wrong"})
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


def test_header_shows_user_roles_and_admin_link(as_user):
    page = as_user("admin").get("/").content.decode()
    assert "Administrator" in page and 'href="/admin/"' in page
    page = as_user("lead").get("/").content.decode()
    assert "Site security lead" in page and 'href="/admin/"' not in page


def test_navigation_follows_capabilities(as_user):
    page = as_user("guard").get("/").content.decode()
    assert 'href="/assets/"' in page and 'href="/sites/"' in page
    assert 'href="/zones/"' not in page and 'href="/lines/"' not in page and 'href="/ownership/"' not in page
    page = as_user("engineer").get("/").content.decode()
    for href in ("/zones/", "/lines/", "/ownership/", "/assets/"):
        assert f'href="{href}"' in page


# ---------------------------------------------------------------- home and sites


def test_home_shows_every_visible_site_with_figures(as_user):
    response = as_user("admin").get("/")
    assert response.status_code == 200
    body = text(response)
    assert "Alpha plant" in body and "Beta warehouse" in body
    assert "Europe/Berlin" in body and "Plant" in body and "Warehouse" in body
    assert "42,000" in body  # alpha's line cost at risk
    assert "9,000" in body  # beta's
    assert "1 ownership gap " in body  # door-ctl-1's conflicting owners at alpha
    assert "0 ownership gaps" in body  # beta
    assert 'class="badge badge-bad"' in response.content.decode()


def test_home_of_a_site_scoped_role_shows_only_its_site(as_user):
    body = text(as_user("lead").get("/"))
    assert "Alpha plant" in body and "Beta warehouse" not in body


def test_home_of_a_guard_hides_plant_figures(as_user):
    response = as_user("guard").get("/")
    body = text(response)
    assert "Alpha plant" in body and "Beta warehouse" not in body
    assert "42,000" not in body and "ownership gap" not in body and "Zones" not in body
    assert "Physical security" in body and "Doors" in body


def test_site_list_and_detail(as_user):
    client = as_user("admin")
    body = text(client.get(reverse("web:sites")))
    assert "Alpha plant" in body and "Beta warehouse" in body and "Industriestraße 1, Bremen" in body
    response = client.get(reverse("web:site", args=["alpha"]))
    assert response.status_code == 200
    body = text(response)
    for expected in ("Production hall 1", "Hall 1 east door", "door-ctl-1", "reader-1", "Restricted", "Control room",
                     "Industrial DMZ", "Line 1 filling", "Alpha OT engineering", "Anna Berg"):
        assert expected in body, expected


def test_site_detail_for_a_guard_shows_areas_and_doors_only(as_user):
    body = text(as_user("guard").get(reverse("web:site", args=["alpha"])))
    assert "Hall 1 east door" in body
    assert "Industrial DMZ" not in body and "Line 1 filling" not in body and "Alpha OT engineering" not in body


def test_site_outside_scope_is_404(as_user):
    assert as_user("lead").get(reverse("web:site", args=["beta"])).status_code == 404
    assert as_user("lead").get(reverse("web:site", args=["nowhere"])).status_code == 404


# ---------------------------------------------------------------- zones


def test_zones_page_with_table_and_diagram(as_user):
    client = as_user("engineer")
    index = text(client.get(reverse("web:zones")))
    assert "Alpha plant" in index and "Beta warehouse" not in index
    response = client.get(reverse("web:site_zones", args=["alpha"]))
    assert response.status_code == 200
    page = response.content.decode()
    body = text(response)
    # the table runs top-down: level 4 before 3.5 before 1
    table = body[body.index("Zones by Purdue level"): body.index("Conduits")]
    assert table.index("Office network") < table.index("Industrial DMZ") < table.index("Line 1 control")
    assert "tcp/443" in body and "tcp/44818" in body and "From → to only" in body
    svg = page[page.index("<svg"): page.index("</svg>")]
    assert svg.count('<g class="zone ') == 3
    assert svg.count('<g class="conduit">') == 2
    assert "tcp/443, tcp/3389" in svg  # few conduits: the services label the arrows
    assert 'marker-end="url(#arrowhead)"' in svg
    assert "L3.5 industrial DMZ" in svg


def test_zones_are_403_for_guards(as_user):
    assert as_user("guard").get(reverse("web:zones")).status_code == 403
    assert as_user("guard").get(reverse("web:site_zones", args=["alpha"])).status_code == 403


# ---------------------------------------------------------------- assets


def names_in(response) -> set[str]:
    return set(re.findall(r'href="/assets/[a-z0-9-]+/([a-z0-9-]+)/" class="strong"', response.content.decode()))


def test_asset_list_filters_and_search(as_user):
    client = as_user("admin")
    everything = names_in(client.get(reverse("web:assets")))
    assert len(everything) == Asset.objects.count() == 11
    assert names_in(client.get(reverse("web:assets"), {"site": "beta"})) == {"wms-1", "cam-gate"}
    assert names_in(client.get(reverse("web:assets"), {"kind": "hmi"})) == {"hmi-line1-a", "hmi-line1-b"}
    assert names_in(client.get(reverse("web:assets"), {"domain": "physical", "site": "alpha"})) == {
        "cam-1", "door-ctl-1", "reader-1", "intercom-1"}
    assert names_in(client.get(reverse("web:assets"), {"zone": "dmz"})) == {"mes-1"}
    assert names_in(client.get(reverse("web:assets"), {"criticality": "critical"})) == {"plc-line1"}
    # search: name, vendor, model, serial, IP prefix, MAC (any case)
    assert names_in(client.get(reverse("web:assets"), {"q": "hmi-line1"})) == {"hmi-line1-a", "hmi-line1-b"}
    assert names_in(client.get(reverse("web:assets"), {"q": "hanwha"})) == {"cam-gate"}
    assert names_in(client.get(reverse("web:assets"), {"q": "IE-3400"})) == {"sw-line1"}
    assert names_in(client.get(reverse("web:assets"), {"q": "X4U212345"})) == {"plc-line1"}
    assert names_in(client.get(reverse("web:assets"), {"q": "10.1.11.2"})) == {
        "sw-line1", "hmi-line1-a", "hmi-line1-b"}
    assert names_in(client.get(reverse("web:assets"), {"q": "AC:CC:8E"})) == {"cam-1"}
    assert names_in(client.get(reverse("web:assets"), {"q": "nothing-like-this"})) == set()
    # combined
    assert names_in(client.get(reverse("web:assets"), {"q": "siemens", "kind": "plc"})) == {"plc-line1"}


def test_asset_list_paginates_by_50(as_user):
    from linewatch.core.models import Site

    alpha = Site.objects.get(slug="alpha")
    Asset.objects.bulk_create(Asset(site=alpha, name=f"sensor-{i:03}", kind="sensor") for i in range(60))
    client = as_user("admin")
    first = client.get(reverse("web:assets"), {"kind": "sensor"})
    assert len(names_in(first)) == 50 and "page 1 of 2" in text(first)
    assert "page=2" in first.content.decode() and "kind=sensor" in first.content.decode()
    second = client.get(reverse("web:assets"), {"kind": "sensor", "page": 2})
    assert len(names_in(second)) == 10 and names_in(first).isdisjoint(names_in(second))


def test_asset_list_is_scoped(as_user):
    assert names_in(as_user("lead").get(reverse("web:assets"))) == {
        a.name for a in Asset.objects.filter(site__slug="alpha")}
    assert names_in(as_user("lead").get(reverse("web:assets"), {"site": "beta"})) == set()


def test_guard_sees_only_physical_security_devices(as_user):
    client = as_user("guard")
    assert names_in(client.get(reverse("web:assets"))) == {"cam-1", "door-ctl-1", "reader-1", "intercom-1"}
    response = client.get(asset_url("alpha", "cam-1"))
    assert response.status_code == 200
    body = text(response)
    assert "cam-1" in body and "Axis" in body and "Alpha physical security" in body
    assert "Consequence" not in body and "per hour" not in body
    assert client.get(asset_url("alpha", "plc-line1")).status_code == 404
    assert client.get(asset_url("beta", "cam-gate")).status_code == 404


def test_asset_page_shows_consequence_and_owner(as_user):
    response = as_user("admin").get(asset_url("alpha", "plc-line1"))
    assert response.status_code == 200
    body = text(response)
    # consequence
    assert "Line 1 filling" in body and "Stopped" in body
    assert "42,000 EUR per hour" in body
    assert "250,000 EUR perishable at risk" in body and "6 h to first spoilage" in body
    assert "12 trucks per day" in body
    assert "“line PLC” fails" in body
    # owner: accountable by kind rule, responsible none
    assert "Alpha OT engineering" in body and "kind “PLC” at this site" in body
    assert "No accountable owner" not in body
    # details, interfaces, dependencies
    for expected in ("S7-1516-3 PN/DP", "V2.9.4", "10.1.11.10", "00:1b:1b:12:34:56", "Line 1 control", "sw-line1"):
        assert expected in body, expected
    assert f'href="{reverse("web:line", args=["alpha", "line-1"])}"' in response.content.decode()
    assert f'href="{asset_url("alpha", "sw-line1")}"' in response.content.decode()


def test_asset_page_shows_the_dependency_chain(as_user):
    body = text(as_user("admin").get(asset_url("alpha", "sw-line1")))
    assert "sw-line1 → plc-line1" in body and "42,000" in body
    assert "plc-line1" in body and "Stopped" in body


def test_asset_page_of_a_redundant_member(as_user):
    body = text(as_user("admin").get(asset_url("alpha", "hmi-line1-a")))
    assert "Redundancy lost" in body and "loses redundancy" in body


def test_asset_with_conflicting_owners(as_user):
    response = as_user("admin").get(asset_url("alpha", "door-ctl-1"))
    body = text(response)
    assert "Conflicting owners: Alpha OT engineering and Alpha physical security" in body
    assert "No accountable owner" not in body
    assert "Controls Hall 1 east door" in body


def test_asset_owned_site_wide_is_not_a_gap(as_user):
    body = text(as_user("admin").get(asset_url("alpha", "intercom-1")))
    assert "No accountable owner" not in body and "Alpha IT" in body and "the whole site" in body


def test_asset_owned_by_kind_rule_of_another_sites_team(as_user):
    body = text(as_user("admin").get(asset_url("beta", "cam-gate")))
    assert "Alpha physical security" in body and "kind “Camera” at this site" in body


def test_asset_without_accountable_owner_is_shown_loudly(as_user):
    Ownership.objects.filter(site__slug="alpha", scope="site").delete()
    response = as_user("admin").get(asset_url("alpha", "intercom-1"))
    assert "No accountable owner" in text(response)
    assert 'class="loud loud-bad"' in response.content.decode()


def test_asset_outside_scope_is_404(as_user):
    assert as_user("lead").get(asset_url("beta", "wms-1")).status_code == 404
    assert as_user("lead").get(asset_url("beta", "cam-gate")).status_code == 404
    assert as_user("lead").get(asset_url("alpha", "plc-line1")).status_code == 200
    assert as_user("admin").get(asset_url("alpha", "no-such-asset")).status_code == 404


# ---------------------------------------------------------------- lines


def test_line_list_with_figures_and_chart(as_user):
    response = as_user("analyst").get(reverse("web:lines"))
    assert response.status_code == 200
    body = text(response)
    assert "Line 1 filling" in body and "Dispatch" in body
    assert "42,000" in body and "250,000" in body and "6 h" in body and "40" in body
    page = response.content.decode()
    assert 'style="width: 100.0%"' in page  # Line 1, the costliest
    assert 'style="width: 21.4%"' in page  # Dispatch, 9,000 of 42,000
    assert body.index("Line 1 filling") < body.index("Dispatch")
    only_beta = text(as_user("analyst").get(reverse("web:lines"), {"site": "beta"}))
    assert "Dispatch" in only_beta and "Line 1 filling" not in only_beta


def test_line_detail_with_groups(as_user):
    response = as_user("engineer").get(reverse("web:line", args=["alpha", "line-1"]))
    assert response.status_code == 200
    body = text(response)
    for expected in ("line PLC", "operator panels", "MES", "Stops the line", "Degrades the line", "1 of 2",
                     "redundant", "30 %", "hmi-line1-a", "hmi-line1-b", "mes-1", "sw-line1"):
        assert expected in body, expected
    assert "plc-line1 ← sw-line1" in body
    assert body.count("single point of failure") == 2  # plc-line1 and sw-line1; not the HMIs, not the MES
    page = response.content.decode()
    for name in ("plc-line1", "hmi-line1-a", "mes-1", "sw-line1"):
        assert f'href="{asset_url("alpha", name)}"' in page


def test_line_outside_scope_is_404_and_guard_403(as_user):
    assert as_user("lead").get(reverse("web:line", args=["beta", "dispatch"])).status_code == 404
    assert as_user("guard").get(reverse("web:line", args=["alpha", "line-1"])).status_code == 403
    assert as_user("guard").get(reverse("web:lines")).status_code == 403


# ---------------------------------------------------------------- ownership


def test_ownership_page_shows_gaps_first(as_user):
    response = as_user("auditor").get(reverse("web:ownership"))
    assert response.status_code == 200
    body = text(response)
    page = response.content.decode()
    assert page.index('id="gaps"') < page.index('id="teams"') < page.index('id="rules"')
    gaps = section(response, "gaps")
    assert "door-ctl-1" in gaps and "Conflicting owners" in gaps and "intercom-1" not in gaps
    assert "1 conflicting" in gaps
    for expected in ("Alpha OT engineering", "Alpha IT", "Beta IT", "Anna Berg", "whole site", "asset kind"):
        assert expected in body, expected


def test_ownership_page_lists_assets_and_kinds_without_owner(as_user):
    Ownership.objects.filter(site__slug="alpha", scope="site").delete()
    response = as_user("admin").get(reverse("web:ownership"), {"site": "alpha"})
    body = text(response)
    gaps = section(response, "gaps")
    for name in ("intercom-1", "reader-1", "sw-line1", "mes-1"):
        assert name in gaps, name
    assert "No accountable owner" in gaps
    assert "Asset kinds without" in gaps and "Intercom" in gaps and "Switch" in gaps
    # the costliest first: losing sw-line1 stops line 1
    assert gaps.index("sw-line1") < gaps.index("intercom-1")
    assert "Beta IT" not in body


def test_ownership_page_without_gaps(as_user):
    body = text(as_user("admin").get(reverse("web:ownership"), {"site": "beta"}))
    assert "Every asset has exactly one accountable team" in body


def test_ownership_hides_member_names_without_people_capability(as_user):
    body = text(as_user("engineer").get(reverse("web:ownership")))
    assert "Anna Berg" not in body and "1 member" in body


def test_static_css_is_served(client, role_users):
    client.force_login(role_users["admin"])
    page = client.get("/").content.decode()
    href = re.search(r'href="([^"]+linewatch\.css)"', page).group(1)
    response = client.get(href)
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b".status-stopped" in body and b"http" not in body.replace(b"http://www.w3.org", b"")


def test_ownership_rules_as_a_raci_matrix(as_user):
    response = as_user("admin").get(reverse("web:ownership"), {"site": "alpha"})
    rules = section(response, "rules")
    assert "whole site every asset · alpha-it · ·" in rules  # accountable site-wide
    assert "asset kind Camera alpha-it alpha-sec" in rules  # responsible, accountable
    assert "asset door-ctl-1 · alpha-ot , alpha-sec" in rules
    page = response.content.decode()
    assert page.count('class="cell-warn"') == 1  # door-ctl-1's two accountable teams


def test_home_lists_costliest_lines_and_gaps(as_user):
    body = text(as_user("analyst").get("/"))
    assert "Costliest lines to lose" in body and "Line 1 filling alpha" in body
    assert "Ownership gaps, costliest first" in body and "door-ctl-1 alpha Conflicting owners" in body
    assert "51,000 EUR/h" in body  # the total at risk: 42,000 + 9,000
