"""Kernel oracle: the analyzer's answers must equal what Linux netfilter does, on every cell.

Three host namespaces joined by one router namespace that enforces a real iptables ruleset (user chain with
RETURN, conntrack and state matches per interface, multiport, source-port match, negation, REJECT with tcp-reset /
icmp-port-unreachable / icmp-host-prohibited, DROP). TCP and UDP probes run inside the namespaces; the ruleset is read
back with `iptables-save` and analysed; every (source, destination, service) cell must agree, including replies that
the router drops (NO_RETURN) and REJECT versus DROP.

Safety: every namespace has a random unique name and is deleted in a `finally`; addresses are 10.251.0.0/16 inside
the namespaces only (nothing is attached to the root namespace); listeners exit by themselves; probes are bounded.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import shutil
import subprocess
import sys

import pytest

from linewatch.segmentation.engine.model import Device, Interface, Route
from linewatch.segmentation.engine.parsers import iptables, nftables
from linewatch.segmentation.engine.reach import ACCEPTED, NO_RETURN, Network, Service

pytestmark = pytest.mark.netns

HOSTS = {"h1": ("10.251.1.10", "r1", "10.251.1.1/24"), "h2": ("10.251.2.10", "r2", "10.251.2.1/24"),
         "h3": ("10.251.3.10", "r3", "10.251.3.1/24")}
SERVICES = ["tcp/22", "tcp/443", "tcp/502", "tcp/8080", "udp/53", "udp/161"]
PROBE_TIMEOUT = 0.6
LISTENER_LIFETIME = 40

RULES = """*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:OT - [0:0]
-A FORWARD -i r1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i r2 -m state --state ESTABLISHED -j ACCEPT
-A FORWARD -o r3 -j OT
-A FORWARD -s 10.251.1.0/24 -i r1 -o r2 -p tcp -m multiport --dports 22,443 -j ACCEPT
-A FORWARD -i r1 -p tcp -m tcp --dport 502 -j REJECT --reject-with tcp-reset
-A FORWARD -s 10.251.2.10/32 -p udp -m udp --dport 161 -j ACCEPT
-A FORWARD -i r2 -o r1 -p tcp -m tcp --dport 443 -j REJECT --reject-with icmp-host-prohibited
-A FORWARD ! -s 10.251.1.0/24 -p udp -m udp --dport 53 -j REJECT
-A FORWARD -s 10.251.3.10/32 -i r3 -p tcp -m tcp --sport 8080 -j ACCEPT
-A FORWARD -p tcp -m tcp --dport 22 -j ACCEPT
-A OT -s 10.251.2.10/32 -p tcp -m tcp --dport 502 -j ACCEPT
-A OT -p tcp -m tcp --dport 22 -j RETURN
-A OT -p tcp -m tcp --dport 8080 -j ACCEPT
-A OT -j DROP
COMMIT
"""

NFT_RULES = """table inet lwtest {
    chain ot {
        ip saddr 10.251.2.10 tcp dport 502 accept
        tcp dport 22 return
        tcp dport 8080 accept
        drop
    }
    chain lwforward {
        type filter hook forward priority filter; policy drop;
        iifname "r1" ct state established,related accept
        iifname "r2" ct state established accept
        oifname "r3" jump ot
        ip saddr 10.251.1.0/24 iifname "r1" oifname "r2" tcp dport { 22, 443 } accept
        iifname "r1" tcp dport 502 reject with tcp reset
        ip saddr 10.251.2.10 udp dport 161 accept
        iifname "r2" oifname "r1" tcp dport 443 reject with icmp type host-prohibited
        ip saddr != 10.251.1.0/24 udp dport 53 reject
        ip saddr 10.251.3.10 iifname "r3" tcp sport 8080 accept
        tcp dport 22 counter accept
    }
}
"""

LISTEN = r"""
import socket, select, sys, time
tcp = [int(p) for p in sys.argv[2].split(",")]
udp = [int(p) for p in sys.argv[3].split(",")]
deadline = time.time() + float(sys.argv[1])
socks = {}
for p in tcp:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", p)); s.listen(32); socks[s] = "tcp"
for p in udp:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", p)); socks[s] = "udp"
print("ready", flush=True)
while time.time() < deadline:
    r, _, _ = select.select(list(socks), [], [], 0.2)
    for s in r:
        if socks[s] == "tcp":
            c, _ = s.accept(); c.close()
        else:
            data, addr = s.recvfrom(512); s.sendto(data, addr)
"""

PROBE = r"""
import errno, json, socket, sys, threading
timeout = float(sys.argv[1])
cells = json.loads(sys.argv[2])
out = {}
def probe(key, dst, proto, port):
    if proto == "tcp":
        s = socket.socket()
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.connect((dst, port))
        if proto == "udp":
            s.send(b"probe"); s.recv(512)
        out[key] = "OPEN"
    except socket.timeout:
        out[key] = "FILTERED"
    except ConnectionRefusedError:
        out[key] = "REFUSED"
    except OSError as e:
        out[key] = "ERR:" + errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()
threads = [threading.Thread(target=probe, args=c) for c in cells]
for t in threads: t.start()
for t in threads: t.join(timeout * 4)
print(json.dumps(out))
"""

# what the kernel shows a client for each analyzer verdict
REJECT_OUTCOME = {"tcp-reset": "REFUSED", "icmp-port-unreachable": "REFUSED",
                  "icmp-host-prohibited": "ERR:EHOSTUNREACH", "icmp-host-unreachable": "ERR:EHOSTUNREACH",
                  "icmp-admin-prohibited": "ERR:EHOSTUNREACH",
                  "icmp-net-unreachable": "ERR:ENETUNREACH", "icmp-net-prohibited": "ERR:ENETUNREACH"}


def expected_outcome(answer) -> str:
    flow = answer.flows[0]
    if flow.disposition == ACCEPTED:
        return "OPEN"
    if flow.disposition == NO_RETURN:
        return "FILTERED"
    if flow.action.startswith("reject:"):
        return REJECT_OUTCOME.get(flow.action.split(":", 1)[1], "?" + flow.action)
    return "FILTERED" if flow.action == "drop" else "?" + flow.disposition


def _sh(*args: str, stdin: str | None = None, timeout: float = 20) -> str:
    return subprocess.run(args, input=stdin, capture_output=True, text=True, check=True, timeout=timeout).stdout


def _netns_available() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    for tool in ("ip", "iptables-restore", "iptables-save"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install -y iproute2 iptables nftables)"
    name = f"lwchk{secrets.token_hex(4)}"
    try:
        _sh("ip", "netns", "add", name)
    except (subprocess.CalledProcessError, OSError) as exc:
        return f"ip netns add failed: {exc}"
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)
    return None


class Lab:
    """Three hosts and one router, each a namespace of its own; `close()` removes every one of them."""

    def __init__(self) -> None:
        self.prefix = f"lw{secrets.token_hex(3)}"
        self.router = f"{self.prefix}-r"
        self.hosts = {h: f"{self.prefix}-{h}" for h in HOSTS}
        self.created: list[str] = []
        self.procs: list[subprocess.Popen] = []

    def build(self) -> None:
        for ns in [self.router, *self.hosts.values()]:
            _sh("ip", "netns", "add", ns)
            self.created.append(ns)
            _sh("ip", "-n", ns, "link", "set", "lo", "up")
        for h, (addr, rif, raddr) in HOSTS.items():
            ns = self.hosts[h]
            # the veth pair is created inside the host namespace and its peer moved straight into the router's
            _sh("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", rif, "netns", self.router)
            _sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0")
            _sh("ip", "-n", ns, "link", "set", "eth0", "up")
            _sh("ip", "-n", self.router, "addr", "add", raddr, "dev", rif)
            _sh("ip", "-n", self.router, "link", "set", rif, "up")
            _sh("ip", "-n", ns, "route", "add", "default", "via", raddr.split("/")[0])
        _sh("ip", "netns", "exec", self.router, "sysctl", "-qw", "net.ipv4.ip_forward=1")

    def load_iptables(self, rules: str) -> str:
        _sh("ip", "netns", "exec", self.router, "iptables-restore", stdin=rules)
        return _sh("ip", "netns", "exec", self.router, "iptables-save")

    def load_nft(self, rules: str) -> str:
        _sh("ip", "netns", "exec", self.router, "nft", "-f", "-", stdin=rules)
        return _sh("ip", "netns", "exec", self.router, "nft", "list", "ruleset")

    def listen(self, tcp: list[int], udp: list[int]) -> None:
        for ns in self.hosts.values():
            p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", LISTEN, str(LISTENER_LIFETIME),
                                  ",".join(map(str, tcp)), ",".join(map(str, udp))],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.procs.append(p)
            line = p.stdout.readline()  # bounded: the listener prints "ready" or exits
            assert line.strip() == "ready", p.stderr.read()

    def probe(self, src: str, cells: list[tuple[str, str, str, int]]) -> dict[str, str]:
        out = _sh("ip", "netns", "exec", self.hosts[src], sys.executable, "-c", PROBE, str(PROBE_TIMEOUT),
                  json.dumps(cells), timeout=30)
        return json.loads(out)

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=10)
        for ns in self.created:
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, timeout=10).stdout
            for pid in pids.split():  # only processes inside a namespace this test created
                subprocess.run(["kill", pid], capture_output=True, timeout=10)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
        leftover = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
        assert self.prefix not in leftover, f"namespaces left behind: {leftover}"


def router_device(ruleset) -> Device:
    ifaces = {rif: Interface(rif, (ipaddress.IPv4Interface(raddr),)) for _a, rif, raddr in HOSTS.values()}
    return Device("router", "firewall", ifaces, [], [ruleset])


def measured_and_predicted(lab: Lab, ruleset) -> tuple[dict, dict]:
    net = Network([router_device(ruleset)])
    tcp = sorted({int(s.split("/")[1]) for s in SERVICES if s.startswith("tcp")})
    udp = sorted({int(s.split("/")[1]) for s in SERVICES if s.startswith("udp")})
    lab.listen(tcp, udp)
    measured, predicted = {}, {}
    for src in HOSTS:
        cells = []
        for dst, (daddr, _r, _ra) in HOSTS.items():
            if dst == src:
                continue
            for svc in SERVICES:
                proto, port = svc.split("/")
                key = f"{src}->{dst} {svc}"
                cells.append((key, daddr, proto, int(port)))
                answer = net.reach(f"{HOSTS[src][0]}/32", f"{daddr}/32", Service.parse(svc))
                predicted[key] = expected_outcome(answer)
        measured.update(lab.probe(src, cells))
    return measured, predicted


@pytest.fixture
def lab():
    reason = _netns_available()
    if reason:
        pytest.skip(reason)
    lab = Lab()
    try:
        lab.build()
        yield lab
    finally:
        lab.close()


def test_iptables_analyzer_equals_kernel_on_every_cell(lab):
    saved = lab.load_iptables(RULES)
    ruleset = iptables.parse(saved, "router.iptables-save")
    assert not ruleset.unsupported, [u.as_dict() for u in ruleset.unsupported]
    measured, predicted = measured_and_predicted(lab, ruleset)
    assert len(measured) == 36
    # the ruleset exercises every outcome the kernel can show a client
    assert set(measured.values()) == {"OPEN", "FILTERED", "REFUSED", "ERR:EHOSTUNREACH"}
    diff = {k: (measured[k], predicted.get(k)) for k in measured if measured[k] != predicted.get(k)}
    assert diff == {}, f"kernel vs analyzer (measured, predicted): {diff}"


def test_nftables_analyzer_equals_kernel_on_every_cell(lab):
    if shutil.which("nft") is None:
        pytest.skip("nft is not installed (apt-get install -y nftables)")
    listed = lab.load_nft(NFT_RULES)
    ruleset = nftables.parse(listed, "router.nft")
    assert not ruleset.unsupported, [u.as_dict() for u in ruleset.unsupported]
    assert ruleset.chains["lwforward"].policy == "drop" and ruleset.chains["ot"].rules
    measured, predicted = measured_and_predicted(lab, ruleset)
    assert len(measured) == 36
    assert set(measured.values()) == {"OPEN", "FILTERED", "REFUSED", "ERR:EHOSTUNREACH"}
    diff = {k: (measured[k], predicted.get(k)) for k in measured if measured[k] != predicted.get(k)}
    assert diff == {}, f"kernel vs analyzer (measured, predicted): {diff}"


def test_cleanup_leaves_no_namespace_behind():
    reason = _netns_available()
    if reason:
        pytest.skip(reason)
    lab = Lab()
    try:
        lab.build()
    finally:
        lab.close()
    assert lab.prefix not in _sh("ip", "netns", "list")


# --- two routers in series: iptables on one, nftables on the other --------------------------------------------------
# a 10.252.1.10 -- [ra: iptables] -- 10.252.2.0/24 transit -- [rb: nft] -- b 10.252.3.10
#                                                                       \-- c 10.252.4.10
CHAIN_HOSTS = {"a": ("10.252.1.10", "ra", "a0", "10.252.1.1/24"), "b": ("10.252.3.10", "rb", "b0", "10.252.3.1/24"),
               "c": ("10.252.4.10", "rb", "c0", "10.252.4.1/24")}
CHAIN_SERVICES = ["tcp/22", "tcp/443", "tcp/502", "tcp/3389", "udp/161"]
RA_RULES = """*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i a0 -o t0 -p tcp -m multiport --dports 22,502 -j ACCEPT
-A FORWARD -s 10.252.4.0/24 -i t0 -o a0 -p tcp -m tcp --dport 443 -j ACCEPT
-A FORWARD -i a0 -p tcp -m tcp --dport 3389 -j REJECT --reject-with tcp-reset
COMMIT
"""
RB_NFT = """table ip rb {
    chain forward {
        type filter hook forward priority filter; policy drop;
        iifname { "b0", "t0" } ct state established,related accept
        iifname "t0" oifname "b0" tcp dport 502 accept
        iifname "t0" oifname "c0" tcp dport 22 accept
        iifname "c0" oifname "t0" tcp dport 443 accept
        iifname "b0" oifname "c0" udp dport 161 accept
        iifname "c0" oifname "b0" tcp dport 502 reject with icmp type admin-prohibited
    }
}
"""


class ChainLab(Lab):
    def __init__(self) -> None:
        super().__init__()
        self.routers = {r: f"{self.prefix}-{r}" for r in ("ra", "rb")}
        self.hosts = {h: f"{self.prefix}-{h}" for h in CHAIN_HOSTS}

    def build(self) -> None:
        for ns in [*self.routers.values(), *self.hosts.values()]:
            _sh("ip", "netns", "add", ns)
            self.created.append(ns)
            _sh("ip", "-n", ns, "link", "set", "lo", "up")
        ra, rb = self.routers["ra"], self.routers["rb"]
        _sh("ip", "-n", ra, "link", "add", "t0", "type", "veth", "peer", "name", "t0", "netns", rb)
        for ns, addr in ((ra, "10.252.2.1/24"), (rb, "10.252.2.2/24")):
            _sh("ip", "-n", ns, "addr", "add", addr, "dev", "t0")
            _sh("ip", "-n", ns, "link", "set", "t0", "up")
            _sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for h, (addr, r, rif, raddr) in CHAIN_HOSTS.items():
            ns, rns = self.hosts[h], self.routers[r]
            _sh("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", rif, "netns", rns)
            _sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0")
            _sh("ip", "-n", ns, "link", "set", "eth0", "up")
            _sh("ip", "-n", rns, "addr", "add", raddr, "dev", rif)
            _sh("ip", "-n", rns, "link", "set", rif, "up")
            _sh("ip", "-n", ns, "route", "add", "default", "via", raddr.split("/")[0])
        for net in ("10.252.3.0/24", "10.252.4.0/24"):
            _sh("ip", "-n", ra, "route", "add", net, "via", "10.252.2.2")
        _sh("ip", "-n", rb, "route", "add", "10.252.1.0/24", "via", "10.252.2.1")


def chain_devices(ra_rules, rb_rules) -> list[Device]:
    ip = ipaddress.IPv4Interface
    ra = Device("ra", "firewall", {"a0": Interface("a0", (ip("10.252.1.1/24"),)),
                                   "t0": Interface("t0", (ip("10.252.2.1/24"),))},
                [Route(ipaddress.IPv4Network(n), next_hop=ipaddress.IPv4Address("10.252.2.2"))
                 for n in ("10.252.3.0/24", "10.252.4.0/24")], [ra_rules])
    rb = Device("rb", "firewall", {"t0": Interface("t0", (ip("10.252.2.2/24"),)),
                                   "b0": Interface("b0", (ip("10.252.3.1/24"),)),
                                   "c0": Interface("c0", (ip("10.252.4.1/24"),))},
                [Route(ipaddress.IPv4Network("10.252.1.0/24"), next_hop=ipaddress.IPv4Address("10.252.2.1"))],
                [rb_rules])
    return [ra, rb]


def test_two_routers_iptables_and_nft_in_series_equal_the_kernel():
    reason = _netns_available()
    if reason:
        pytest.skip(reason)
    if shutil.which("nft") is None:
        pytest.skip("nft is not installed (apt-get install -y nftables)")
    lab = ChainLab()
    try:
        lab.build()
        _sh("ip", "netns", "exec", lab.routers["ra"], "iptables-restore", stdin=RA_RULES)
        _sh("ip", "netns", "exec", lab.routers["rb"], "nft", "-f", "-", stdin=RB_NFT)
        ra_rules = iptables.parse(_sh("ip", "netns", "exec", lab.routers["ra"], "iptables-save"), "ra.iptables-save")
        rb_rules = nftables.parse(_sh("ip", "netns", "exec", lab.routers["rb"], "nft", "list", "ruleset"), "rb.nft")
        assert not ra_rules.unsupported and not rb_rules.unsupported
        net = Network(chain_devices(ra_rules, rb_rules))
        lab.listen([22, 443, 502, 3389], [161])
        measured, predicted = {}, {}
        for src in CHAIN_HOSTS:
            cells = []
            for dst, (daddr, *_rest) in CHAIN_HOSTS.items():
                if dst == src:
                    continue
                for svc in CHAIN_SERVICES:
                    proto, port = svc.split("/")
                    key = f"{src}->{dst} {svc}"
                    cells.append((key, daddr, proto, int(port)))
                    predicted[key] = expected_outcome(net.reach(CHAIN_HOSTS[src][0], daddr, Service.parse(svc)))
            measured.update(lab.probe(src, cells))
    finally:
        lab.close()
    assert len(measured) == 30
    assert set(measured.values()) == {"OPEN", "FILTERED", "REFUSED", "ERR:EHOSTUNREACH"}
    diff = {k: (measured[k], predicted.get(k)) for k in measured if measured[k] != predicted.get(k)}
    assert diff == {}, f"kernel vs analyzer (measured, predicted): {diff}"


def test_the_oracle_skips_with_a_reason_when_not_root(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert _netns_available() == "needs root to create network namespaces"
