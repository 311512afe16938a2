"""Kernel oracle for address translation: the analyzer's answers must equal what Linux netfilter does, on every cell.

One router namespace between an "internet" host (h1 at 10.251.100.7, whose only route is its subnet, so it can
answer nothing but the router's address), an office (h2) and an OT cell (h3). The router port-forwards public ports
to the OT server and to the office (DNAT through a user chain with a RETURN exemption), masquerades the office and
SNATs OT's DNS to its public address, with a filter that accepts, rejects (tcp-reset, icmp-host-prohibited) and
drops, and drops the replies of one forwarded port. The same policy is loaded once as iptables-save and once as nft;
the ruleset is read back from the kernel and analysed; every (source, destination, service) cell must agree:
reachability through the translation, the return traffic translated back (or not), and REJECT versus DROP.

Safety as in test_netns_oracle.py: random namespace names, deleted in a `finally`; addresses 10.251.0.0/16 inside the
namespaces only; listeners exit by themselves; probes are bounded.
"""

from __future__ import annotations

import ipaddress
import shutil

import pytest

from linewatch.segmentation.engine.model import Device, Interface, Route
from linewatch.segmentation.engine.parsers import iptables, nft_json, nftables
from linewatch.segmentation.engine.reach import Network, Service

from .test_netns_oracle import HOSTS, Lab, _netns_available, _sh, expected_outcome

pytestmark = pytest.mark.netns

PUBLIC = "10.251.1.1"  # the router's address on the internet side
INTERNET = "10.251.100.7"  # h1's own address, beyond the router's route
SOURCE = {"h1": INTERNET, "h2": HOSTS["h2"][0], "h3": HOSTS["h3"][0]}
CELLS = [  # (source host, destination address, service): what a person would ask
    ("h1", PUBLIC, "tcp/8502"), ("h1", PUBLIC, "tcp/9502"), ("h1", PUBLIC, "udp/1161"), ("h1", PUBLIC, "tcp/2222"),
    ("h1", PUBLIC, "tcp/8443"), ("h1", PUBLIC, "tcp/8080"),
    ("h2", INTERNET, "tcp/443"), ("h2", INTERNET, "udp/53"), ("h2", INTERNET, "tcp/22"), ("h2", INTERNET, "tcp/502"),
    ("h2", "10.251.3.10", "tcp/502"), ("h2", "10.251.3.10", "tcp/22"), ("h2", PUBLIC, "tcp/8502"),
    ("h3", INTERNET, "udp/53"), ("h3", INTERNET, "tcp/443"), ("h3", "10.251.2.10", "tcp/22"),
]

RULES = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:PORTFWD - [0:0]
-A PREROUTING -i r1 -j PORTFWD
-A POSTROUTING -s 10.251.2.0/24 -o r1 -j MASQUERADE
-A POSTROUTING -s 10.251.3.0/24 -o r1 -p udp -j SNAT --to-source 10.251.1.1
-A PORTFWD -s 10.251.100.7/32 -p tcp -m tcp --dport 9502 -j RETURN
-A PORTFWD -d 10.251.1.1/32 -p tcp -m tcp --dport 8502 -j DNAT --to-destination 10.251.3.10:502
-A PORTFWD -d 10.251.1.1/32 -p tcp -m tcp --dport 9502 -j DNAT --to-destination 10.251.3.10:502
-A PORTFWD -d 10.251.1.1/32 -p udp -m udp --dport 1161 -j DNAT --to-destination 10.251.3.10:161
-A PORTFWD -d 10.251.1.1/32 -p tcp -m tcp --dport 2222 -j DNAT --to-destination 10.251.2.10:22
-A PORTFWD -d 10.251.1.1/32 -p tcp -m tcp --dport 8443 -j DNAT --to-destination 10.251.3.10:443
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -i r3 -p tcp -m tcp --sport 443 -j DROP
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -d 10.251.3.10/32 -i r1 -p tcp -m multiport --dports 502,443 -j ACCEPT
-A FORWARD -d 10.251.3.10/32 -i r1 -p udp -m udp --dport 161 -j ACCEPT
-A FORWARD -i r1 -o r2 -p tcp -j REJECT --reject-with tcp-reset
-A FORWARD -i r2 -o r1 -p tcp -m tcp --dport 443 -j ACCEPT
-A FORWARD -i r2 -o r1 -p udp -m udp --dport 53 -j ACCEPT
-A FORWARD -i r2 -o r1 -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset
-A FORWARD -i r2 -o r3 -p tcp -m tcp --dport 502 -j ACCEPT
-A FORWARD -i r3 -o r1 -p udp -m udp --dport 53 -j ACCEPT
-A FORWARD -i r3 -o r2 -j REJECT --reject-with icmp-host-prohibited
COMMIT
"""

NFT_RULES = """table ip lwnat {
    chain portfwd {
        ip saddr 10.251.100.7 tcp dport 9502 return
        ip daddr 10.251.1.1 tcp dport 8502 dnat to 10.251.3.10:502
        ip daddr 10.251.1.1 tcp dport 9502 dnat to 10.251.3.10:502
        ip daddr 10.251.1.1 udp dport 1161 dnat to 10.251.3.10:161
        ip daddr 10.251.1.1 tcp dport 2222 dnat to 10.251.2.10:22
        ip daddr 10.251.1.1 tcp dport 8443 dnat to 10.251.3.10:443
    }
    chain pre {
        type nat hook prerouting priority dstnat; policy accept;
        iifname "r1" jump portfwd
    }
    chain post {
        type nat hook postrouting priority srcnat; policy accept;
        ip saddr 10.251.2.0/24 oifname "r1" masquerade
        ip saddr 10.251.3.0/24 oifname "r1" meta l4proto udp snat to 10.251.1.1
    }
    chain input {
        type filter hook input priority filter; policy drop;
    }
    chain forward {
        type filter hook forward priority filter; policy drop;
        iifname "r3" tcp sport 443 drop
        ct state established,related accept
        iifname "r1" ip daddr 10.251.3.10 tcp dport { 443, 502 } accept
        iifname "r1" ip daddr 10.251.3.10 udp dport 161 accept
        iifname "r1" oifname "r2" meta l4proto tcp reject with tcp reset
        iifname "r2" oifname "r1" tcp dport 443 accept
        iifname "r2" oifname "r1" udp dport 53 accept
        iifname "r2" oifname "r1" tcp dport 22 reject with tcp reset
        iifname "r2" oifname "r3" tcp dport 502 accept
        iifname "r3" oifname "r1" udp dport 53 accept
        iifname "r3" oifname "r2" reject with icmp type host-prohibited
    }
}
"""


def router(ruleset) -> Device:
    ifaces = {rif: Interface(rif, (ipaddress.IPv4Interface(raddr),)) for _a, rif, raddr in HOSTS.values()}
    internet = Route(ipaddress.IPv4Network("10.251.100.0/24"), next_hop=ipaddress.IPv4Address("10.251.1.10"))
    return Device("router", "firewall", ifaces, [internet], [ruleset])


@pytest.fixture
def lab():
    reason = _netns_available()
    if reason:
        pytest.skip(reason)
    lab = Lab()
    try:
        lab.build()
        h1 = lab.hosts["h1"]
        # the internet host is 10.251.100.7 (its packets, UDP answers included, leave from it) and routes only its own
        # subnet: a reply reaches the office only if it was masqueraded
        _sh("ip", "-n", h1, "route", "del", "default")
        _sh("ip", "-n", h1, "addr", "add", f"{INTERNET}/32", "dev", "eth0")
        _sh("ip", "-n", h1, "route", "replace", "10.251.1.0/24", "dev", "eth0", "src", INTERNET)
        _sh("ip", "-n", lab.router, "route", "add", "10.251.100.0/24", "via", "10.251.1.10")
        yield lab
    finally:
        lab.close()


def compare(lab: Lab, ruleset) -> tuple[dict, dict]:
    net = Network([router(ruleset)])
    assert net.nat
    lab.listen([22, 443, 502], [53, 161])
    measured, predicted = {}, {}
    for src in ("h1", "h2", "h3"):
        cells = []
        for s, dst, svc in CELLS:
            if s != src:
                continue
            proto, port = svc.split("/")
            key = f"{src}->{dst} {svc}"
            cells.append((key, dst, proto, int(port)))
            predicted[key] = expected_outcome(net.reach(f"{SOURCE[src]}/32", f"{dst}/32", Service.parse(svc)))
        measured.update(lab.probe(src, cells))
    return measured, predicted


def check(measured: dict, predicted: dict) -> None:
    assert len(measured) == len(CELLS)
    # the policy shows every outcome a client can see, and translation decides some of them
    assert set(measured.values()) == {"OPEN", "FILTERED", "REFUSED", "ERR:EHOSTUNREACH"}
    assert measured[f"h1->{PUBLIC} tcp/8502"] == "OPEN" and measured[f"h1->{PUBLIC} tcp/9502"] == "FILTERED"
    diff = {k: (measured[k], predicted.get(k)) for k in measured if measured[k] != predicted.get(k)}
    assert diff == {}, f"kernel vs analyzer (measured, predicted): {diff}"


def test_iptables_nat_analyzer_equals_kernel_on_every_cell(lab):
    _sh("ip", "netns", "exec", lab.router, "iptables-restore", stdin=RULES)
    saved = _sh("ip", "netns", "exec", lab.router, "iptables-save")
    ruleset = iptables.parse(saved, "router.iptables-save")
    assert not ruleset.unsupported and not ruleset.blocking, [u.as_dict() for u in ruleset.unsupported]
    assert {r.action for r in ruleset.nat} == {"dnat", "masquerade", "snat"}
    check(*compare(lab, ruleset))


def test_nft_nat_analyzer_equals_kernel_on_every_cell(lab):
    if shutil.which("nft") is None:
        pytest.skip("nft is not installed (apt-get install -y nftables)")
    _sh("ip", "netns", "exec", lab.router, "nft", "-f", "-", stdin=NFT_RULES)
    listed = _sh("ip", "netns", "exec", lab.router, "nft", "list", "ruleset")
    ruleset = nftables.parse(listed, "router.nft")
    assert not ruleset.unsupported and not ruleset.blocking, [u.as_dict() for u in ruleset.unsupported]
    measured, predicted = compare(lab, ruleset)
    check(measured, predicted)
    # the same kernel ruleset as `nft -j` JSON gives the same answers
    as_json = nft_json.parse(_sh("ip", "netns", "exec", lab.router, "nft", "-j", "list", "ruleset"), "router.json")
    assert not as_json.unsupported and not as_json.blocking, [u.as_dict() for u in as_json.unsupported]
    net = Network([router(as_json)])
    for s, dst, svc in CELLS:
        key = f"{s}->{dst} {svc}"
        assert expected_outcome(net.reach(f"{SOURCE[s]}/32", f"{dst}/32", Service.parse(svc))) == measured[key], key
