"""Flow conformance of the conversations passive discovery stored (issue 5, item 6: "the discovery talkers"), on
the demo plant Kolding and its firewall config: the talkers come from a Zeek conn.log read by the discovery engine
and stored by `discovery.services.reconcile`, as `linewatch discover --zeek F --site S --store` does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from linewatch.segmentation.commands import register
from linewatch.segmentation.engine.conformance import TALKER_SPORT, flows_from_talkers

T0 = 1_795_510_800  # 2026-11-24 09:00 UTC
CONN = [  # (seconds after T0, client, server, port, proto, what it is on Kolding)
    (0, "10.20.101.77", "10.20.111.10", 102, "tcp"),  # line 1 HMI -> line 1 PLC: declared, allowed (rule 25)
    (10, "10.20.10.15", "10.20.111.10", 4840, "tcp"),  # office -> line 1 PLC OPC UA: the added rule, no conduit
    (20, "10.20.10.15", "10.20.111.10", 102, "tcp"),  # office -> line 1 PLC: the configs drop it (bypass)
    (30, "10.20.60.23", "10.20.60.27", 514, "udp"),  # inside site-ops: no boundary crossed
    (40, "10.20.114.17", "255.255.255.255", 67, "udp"),  # DHCP broadcast: link-local
]


EXTRA_RULE = ('-A FORWARD -i vlan10 -o vlan111 -s 10.20.10.0/24 -d 10.20.111.0/24 -p tcp -m tcp --dport 4840 '
              '-m comment --comment "vendor remote support (no conduit)" -j ACCEPT')


def drifted_mapping(tmp: Path) -> tuple[Path, int]:
    """The demo mapping with one rule added to kol-fw-01 before its final LOG/DROP; the DROP's line number."""
    from linewatch.segmentation import plant

    demo = Path(plant.DEMO_MAPPINGS)
    lines = (demo / "kol-fw-01.rules").read_text().splitlines()
    at = lines.index("-A FORWARD -j LOG --log-prefix \"kol-fw-01 deny: \"")
    lines.insert(at, EXTRA_RULE)
    (tmp / "kol-fw-01.rules").write_text("\n".join(lines) + "\n")
    (tmp / "kolding.yaml").write_text((demo / "kolding.yaml").read_text())
    return tmp / "kolding.yaml", lines.index("-A FORWARD -j DROP") + 1


def app() -> typer.Typer:
    root, seg = typer.Typer(), typer.Typer()
    register(root, seg)
    root.add_typer(seg, name="segmentation")
    return root


def conn_log(path: Path, rows=CONN, start: int = T0) -> Path:
    lines = []
    for i, (dt, client, server, port, proto) in enumerate(rows):
        lines.append(json.dumps({
            "ts": start + dt, "uid": f"C{i}", "id.orig_h": client, "id.orig_p": 50000 + i, "id.resp_h": server,
            "id.resp_p": port, "proto": proto, "duration": 2.5, "conn_state": "SF", "orig_pkts": 6,
            "orig_ip_bytes": 400, "resp_pkts": 5, "resp_ip_bytes": 380}))
    path.write_text("\n".join(lines) + "\n")
    return path


def discover_and_store(path: Path, site: str = "kolding"):
    """What `linewatch discover --zeek PATH --site SITE --store` does."""
    from linewatch.core.models import Site
    from linewatch.discovery.engine import Discovery
    from linewatch.discovery.services import reconcile

    disc = Discovery()
    assert disc.add_zeek(path), disc.errors
    return reconcile(Site.objects.get(slug=site), disc)


def run(*args: str):
    return CliRunner().invoke(app(), ["segmentation", "conformance", "--site", "kolding", *args])


@pytest.fixture
def kolding_talkers(demo_loaded, tmp_path):
    summary = discover_and_store(conn_log(tmp_path / "conn.log"))
    assert summary.conversations == len(CONN)
    return tmp_path


def test_talkers_become_flows_and_events(kolding_talkers):
    from linewatch.events.models import StoredEvent

    mapping, drop = drifted_mapping(kolding_talkers)
    res = run("--from-discovery", "--mapping", str(mapping), "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["discovery"] == {"conversations": 5, "since": None} and doc["flows"] == 5
    c = doc["counts"]
    assert (c["conforms"], c["outside-conduit"], c["bypass"], c["same-zone"]) == (1, 1, 1, 2)
    assert c["unknown-path"] == 0  # the broadcast is not "a network the model does not know"
    by_port = {v["service"]: v for v in doc["reported"]}
    assert set(by_port) == {"tcp/4840", "tcp/102"}  # not the HMI's polling, not the broadcast
    outside = by_port["tcp/4840"]
    assert outside["class"] == "outside-conduit" and (outside["from_zone"], outside["to_zone"]) == ("office",
                                                                                                    "line1-control")
    assert outside["conduits"] == [] and "vendor remote support" in outside["hops"][0]["text"]
    bypass = by_port["tcp/102"]
    assert bypass["class"] == "bypass" and bypass["rule"].endswith(f"kol-fw-01.rules:{drop}")  # the rule dropping it
    assert bypass["origin"] == "discovery:10.20.10.15->10.20.111.10:tcp/102" and bypass["sport"] == TALKER_SPORT
    assert bypass["detail"]["packets"] == 11 and bypass["detail"]["first_seen"] == (T0 + 20) * 1000
    assert bypass["time"] == (T0 + 20) * 1000
    assert doc["events"] == 2
    events = StoredEvent.objects.filter(site_slug="kolding", source="segmentation-conformance")
    unmapped = [e.body["unmapped"] for e in events]
    rules = {u["segmentation.class"]: u["segmentation.rule"] for u in unmapped}
    assert rules["bypass"].endswith(f"kol-fw-01.rules:{drop}") and set(rules) == {"bypass", "outside-conduit"}

    # the same conversations again: nothing stored twice
    again = json.loads(run("--from-discovery", "--mapping", str(mapping), "--json").stdout)
    assert again["events"] == 0 and again["counts"] == doc["counts"]
    assert StoredEvent.objects.filter(site_slug="kolding", source="segmentation-conformance").count() == 2


def test_storing_the_same_capture_twice_changes_nothing_a_later_one_adds(kolding_talkers):
    from linewatch.discovery.models import Conversation

    before = {(c.client, c.server, c.port): (c.packets, c.flows) for c in Conversation.objects.all()}
    assert before[("10.20.10.15", "10.20.111.10", 102)] == (11, 1)
    assert discover_and_store(kolding_talkers / "conn.log").conversations == 0
    assert {(c.client, c.server, c.port): (c.packets, c.flows) for c in Conversation.objects.all()} == before
    later = conn_log(kolding_talkers / "later.log", CONN[2:3], start=T0 + 86_400)
    assert discover_and_store(later).conversations == 0
    c = Conversation.objects.get(client="10.20.10.15", server="10.20.111.10", port=102)
    assert (c.packets, c.flows) == (22, 2) and int(c.last_seen.timestamp()) == T0 + 86_400 + 20 + 2
    assert int(c.first_seen.timestamp()) == T0 + 20


def test_since_keeps_only_recent_conversations(kolding_talkers):
    later = conn_log(kolding_talkers / "later.log", [(0, "10.20.10.16", "10.20.111.10", 102, "tcp")],
                     start=T0 + 86_400)
    discover_and_store(later)
    doc = json.loads(run("--from-discovery", "--since", "2026-11-24T12:00Z", "--no-events", "--json").stdout)
    assert doc["flows"] == 1 and doc["reported"][0]["src"] == "10.20.10.16" and doc["events"] == 0
    assert doc["discovery"]["since"].startswith("2026-11-24T12:00")
    res = run("--from-discovery", "--since", "tomorrow-ish")
    assert res.exit_code == 2 and "--since" in res.output and "tomorrow-ish" in res.output


def test_no_stored_conversations_is_a_clear_error(demo_loaded):
    res = run("--from-discovery")
    assert res.exit_code == 2
    assert "discovery has stored no conversations for this site" in res.output
    assert "linewatch discover" in res.output and "--store" in res.output
    res = run("--from-discovery", "--since", "1d", "--json")
    assert res.exit_code == 2 and "seen since" in res.output
    res = run()
    assert res.exit_code == 2 and "--from-discovery" in res.output


def test_human_output_names_the_talkers(kolding_talkers):
    res = run("--from-discovery", "--no-events")
    assert res.exit_code == 0, res.output
    assert "5 flow(s) (5 discovery conversation(s))" in res.output and "0 event(s) published" in res.output
    assert "10.20.10.15 -> 10.20.111.10" in res.output and "bypass" in res.output


def test_flows_from_talkers_reports_broken_records_and_keeps_good_ones():
    flows, errors = flows_from_talkers([
        {"client": "10.0.0.1", "server": "10.0.1.1", "transport": "tcp", "port": 502, "first_seen": 5},
        {"client": "10.0.0.1", "server": "not-an-ip", "transport": "tcp", "port": 502},
        {"client": "10.0.0.1", "server": "10.0.1.1", "transport": "gre", "port": 0},
        {"client": "10.0.0.1", "server": "10.0.1.1", "transport": "udp", "port": 70000},
        {"client": "fe80::1", "server": "fe80::2", "transport": "udp", "port": 161},  # IPv6: not modelled
        {"server": "10.0.1.1", "transport": "udp", "port": 161},
    ], "discovery")
    assert [(f.src, f.dst, f.proto, f.dport, f.time, f.established) for f in flows] == [
        ("10.0.0.1", "10.0.1.1", 6, 502, 5, None)]
    assert [e.place for e in errors] == ["talker 2", "talker 3", "talker 4", "talker 6"]
    assert "gre" in errors[1].message and "out of range" in errors[2].message


def test_page_and_api_show_discovery_conformance(kolding_talkers, client):
    from linewatch.core import accounts

    accounts.create_user("eng", "correct-horse-battery", "ot_engineer", sites=["kolding"])
    client.login(username="eng", password="correct-horse-battery")
    html = client.get("/sites/kolding/segmentation/").content.decode()
    assert 'id="conformance"' in html and "Flow conformance" in html
    assert "5 conversation(s)" in html and "10.20.10.15 → 10.20.111.10" in html
    assert "kol-fw-01.rules:65" in html and "-A FORWARD -j DROP" in html  # drill-down: the hops and their rules
    assert "10.20.101.77 → 10.20.111.10" not in html  # conforms: not listed
    doc = client.get("/api/v1/segmentation/kolding").json()
    assert doc["conformance"]["counts"]["bypass"] == 2 and len(doc["conformance"]["reported"]) == 2
    discover_and_store(conn_log(kolding_talkers / "more.log", [(0, "10.20.10.17", "10.20.111.10", 102, "tcp")],
                                start=T0 + 3600))
    html = client.get("/sites/kolding/segmentation/").content.decode()  # new conversations: not the cached page
    assert "6 conversation(s)" in html and "10.20.10.17 → 10.20.111.10" in html


def test_page_without_conversations_says_how_to_get_them(demo_loaded, client):
    from linewatch.core import accounts

    accounts.create_user("eng", "correct-horse-battery", "ot_engineer", sites=["kolding"])
    client.login(username="eng", password="correct-horse-battery")
    html = client.get("/sites/kolding/segmentation/").content.decode()
    assert 'id="conformance"' in html and "linewatch discover" in html and "--store" in html


def test_the_demo_capture_talkers_on_kolding(demo_loaded):
    """The Kolding demo capture, stored by the discovery demo: the line HMIs' polling conforms, the broadcasts are
    not reported, and what the firewall config does not permit (the shadow Dahua camera's cloud session, the one
    planted bypass docs/demo.md lists; tests/segmentation/test_demo_conformance.py checks the whole list) is named."""
    import time

    from linewatch.discovery import demo as discovery_demo
    from linewatch.discovery.models import Conversation
    from linewatch.segmentation import analysis

    discovery_demo.load()
    stored = Conversation.objects.filter(site__slug="kolding").count()
    assert stored > 300
    t0 = time.perf_counter()
    doc = analysis.conformance("kolding", [], publish=False, from_discovery=True)
    elapsed = time.perf_counter() - t0
    assert doc["flows"] == stored and doc["discovery"]["conversations"] == stored and elapsed < 30
    assert doc["counts"]["conforms"] >= 10 and doc["counts"]["unknown-path"] == 0
    reported = {(v["src"], v["dst"], v["service"]): v for v in doc["reported"]}
    assert ("10.20.101.77", "10.20.111.10", "tcp/102") not in reported  # the line 1 HMI's S7 polling conforms
    cloud = reported["10.20.140.201", "47.254.131.9", "tcp/443"]  # the shadow Dahua camera's cloud session
    assert cloud["class"] == "bypass" and (cloud["from_zone"], cloud["to_zone"]) == ("physec", "internet")
    assert cloud["rule"].endswith("kol-fw-01.rules:65")
    discovery_demo.load()  # the demo again: no conversation twice
    assert Conversation.objects.filter(site__slug="kolding").count() == stored


@pytest.mark.browser
def test_conformance_drill_down_in_a_browser(live_server, transactional_db, browser, tmp_path):
    from linewatch.core import accounts
    from linewatch.core.sitefile.importer import import_files
    from linewatch.discovery import demo as discovery_demo
    from tests.conftest import DEMO_SITES

    import_files(sorted(str(p) for p in DEMO_SITES.glob("*.yaml")))
    discovery_demo.load()
    accounts.create_user("eng", "correct-horse-battery", "ot_engineer", sites=["kolding"])
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    base = live_server.url
    page.goto(base + "/login/")
    page.fill("#id_username", "eng")
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    page.goto(base + "/sites/kolding/segmentation/#conformance")
    section = page.locator("#conformance")
    assert "conversation(s) checked" in section.inner_text()
    first = section.locator("details").first
    assert not first.locator("ul").is_visible()
    first.locator("summary").click()
    assert first.locator("ul").is_visible() and "kol-fw-01.rules:" in first.inner_text()
    section.screenshot(path=str(tmp_path / "conformance.png"))
