"""Flow conformance of the demo: the Kolding capture, the firewall config `kol-fw-01.rules` and the declared conduits
agree, so what conformance reports on the demo is exactly the planted findings docs/demo.md lists (section "Flow
conformance of the demo capture"), not the plant's own time, log and monitoring traffic."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "demo.md"
SECTION = "### Flow conformance of the demo capture"


def documented() -> tuple[set[tuple], tuple[int, int, int]]:
    """The reported talkers docs/demo.md lists, and its (conversations, conform, same-zone) counts."""
    text = DOC.read_text(encoding="utf-8")
    assert SECTION in text, f"{DOC} has no section {SECTION!r}"
    body = text.split(SECTION, 1)[1].split("\n#", 1)[0]
    counts = re.search(r"Of the (\d+) conversations, (\d+) conform, (\d+) stay inside one zone", body)
    assert counts, "the section does not give the counts"
    rows = set()
    for line in body.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) < 6 or cells[0] not in ("bypass", "outside-conduit", "unknown-path", "insufficient-info"):
            continue
        zones = [z.strip().strip("`") for z in cells[4].split("→")]
        rows.add((cells[0], cells[1], cells[2], cells[3], zones[0], zones[1], cells[5]))
    assert rows, "the section lists no finding"
    return rows, tuple(int(n) for n in counts.groups())


def test_the_demo_reports_exactly_the_documented_findings(demo_loaded):
    from linewatch.discovery import demo as discovery_demo
    from linewatch.discovery.models import Conversation
    from linewatch.segmentation import analysis

    discovery_demo.load()
    doc = analysis.conformance("kolding", [], publish=False, from_discovery=True)
    rows, (conversations, conform, same_zone) = documented()
    got = {(v["class"], v["src"], v["dst"], v["service"], v["from_zone"], v["to_zone"],
            "kol-fw-01.rules:" + v["rule"].rsplit(":", 1)[-1]) for v in doc["reported"]}
    assert got == rows
    assert all(v["rule"].rsplit(":", 1)[0].endswith("kol-fw-01.rules") for v in doc["reported"])
    c = doc["counts"]
    assert (doc["flows"], c["conforms"], c["same-zone"]) == (conversations, conform, same_zone)
    assert c["unknown-path"] == c["insufficient-info"] == c["outside-conduit"] == 0
    assert sum(c[k] for k in ("bypass", "blocked-attempt")) == len([r for r in rows if r[0] == "bypass"])
    # the capture opens nothing into the safety zone from outside it
    sis = [(c.client, c.server, c.port) for c in Conversation.objects.filter(site__slug="kolding")
           if str(c.server).startswith("10.20.120.") and not str(c.client).startswith("10.20.120.")]
    assert sis == []


def test_the_plants_management_traffic_conforms(demo_loaded):
    """Time, logs, monitoring and the engineering workstations' browse cross the firewall host by host, and each is
    both allowed by the config and declared by a conduit (and a neighbour host on the same port is not allowed)."""
    from linewatch.segmentation import analysis, checks
    from linewatch.segmentation.engine.conformance import TALKER_SPORT, Conformance, Flow

    conf = Conformance(checks.Checker(analysis.site_model("kolding")))

    def verdict(src: str, dst: str, proto: int, port: int):
        return conf.classify(Flow(src, dst, proto, TALKER_SPORT, port))

    allowed = [
        ("10.20.111.10", "10.20.60.23", 17, 123, "line1-control-to-ops-services"),
        ("10.20.120.10", "10.20.60.23", 17, 123, "sis-to-ops-services"),
        ("10.20.102.2", "10.20.60.27", 17, 514, "line2-supervisory-to-ops-services"),
        ("10.20.60.23", "10.20.104.2", 17, 161, "ops-to-line4-supervisory"),
        ("10.20.60.23", "10.20.130.10", 17, 161, "ops-to-bms"),
        ("10.20.60.25", "10.20.112.10", 17, 44818, "ops-to-line2-control"),
        ("10.20.60.28", "10.20.130.11", 6, 80, "ops-to-bms"),
        ("10.20.14.10", "10.20.10.254", 17, 123, "wlan-to-office"),
        ("10.20.140.13", "10.20.10.254", 17, 123, "physec-to-office"),
        ("10.20.10.10", "10.20.50.13", 17, 514, "office-to-idmz"),
        ("10.20.140.12", "10.20.50.13", 17, 514, "physec-logs-to-idmz"),
        ("10.20.60.23", "10.20.50.13", 17, 123, "ops-to-idmz"),
    ]
    for src, dst, proto, port, conduit in allowed:
        v = verdict(src, dst, proto, port)
        assert v is not None and v.kind == "conforms" and conduit in v.conduits, (src, dst, port, v and v.kind)
    # narrow: other hosts, other ports, and anything from site-ops into the SIS stay dropped
    for src, dst, proto, port in [("10.20.111.10", "10.20.60.24", 17, 123), ("10.20.111.10", "10.20.60.27", 17, 514),
                                  ("10.20.60.24", "10.20.104.2", 17, 161), ("10.20.60.23", "10.20.120.2", 17, 161),
                                  ("10.20.60.25", "10.20.120.10", 6, 102), ("10.20.60.25", "10.20.120.11", 17, 44818),
                                  ("10.20.60.27", "10.20.130.11", 6, 80), ("10.20.10.15", "10.20.60.23", 17, 123),
                                  ("10.20.140.13", "10.20.10.15", 17, 123)]:
        v = verdict(src, dst, proto, port)
        assert v is not None and v.kind == "bypass", (src, dst, port, v and v.kind)



def test_the_shipped_kolding_site_file_is_the_generators(tmp_path):
    """The conduits the conformance relies on are in the shipped site file, as `linewatch.demo.generate` writes it."""
    from linewatch.demo import generate

    sites = generate.build_all()
    generate.check(sites)
    written = {p.name: p for p in generate.write(sites, tmp_path)}
    shipped = Path(generate.OUT_DIR) / "20-kolding.yaml"
    assert written["20-kolding.yaml"].read_text(encoding="utf-8") == shipped.read_text(encoding="utf-8")
