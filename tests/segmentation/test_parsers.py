"""iptables-save and nft ruleset parsing into the vendor-neutral model, on hand-written samples and the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from linewatch.errors import InputError
from linewatch.segmentation.engine.model import PortRange
from linewatch.segmentation.engine.parsers import iptables, nftables, parse_file, sniff

DATA = Path(__file__).resolve().parents[1] / "data" / "segmentation"
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "segmentation"


def test_iptables_user_chains_negation_multiport_and_policies():
    rs = parse_file(DATA / "chains.rules")
    fwd = rs.chains["FORWARD"]
    assert (fwd.hook, fwd.policy) == ("forward", "drop")
    assert rs.chains["INPUT"].policy == "drop" and rs.chains["CELL"].hook is None
    by_line = {int(r.origin.rsplit(":", 1)[1]): r for c in rs.chains.values() for r in c.rules}
    assert by_line[14].match.states == ("RELATED", "ESTABLISHED")
    assert by_line[15].action == "continue"  # LOG does not decide
    assert (by_line[16].action, by_line[16].target) == ("jump", "CELL")
    assert by_line[17].match.dports == (PortRange(53, 53), PortRange(123, 123)) and by_line[17].match.protocols == (17,)
    assert (by_line[19].action, by_line[19].target) == ("goto", "MGMT")
    assert by_line[20].match.src_negated and by_line[20].action == "return"
    assert by_line[22].match.dports == (PortRange(20000, 20010),)
    assert (by_line[22].action, by_line[22].reject_with) == ("reject", "icmp-host-prohibited")


def test_iptables_reports_every_unsupported_construct_with_its_line():
    rs = parse_file(DATA / "chains.rules")
    found = {(u.line, u.why) for u in rs.unsupported}
    assert (18, "match module recent is not supported") in found
    # the nat table's MASQUERADE is modelled (test_nat_linux.py): not reported, and nothing is device-wide
    assert [(r.stage, r.action, r.origin) for r in rs.nat] == [("post", "masquerade", f"{DATA / 'chains.rules'}:5")]
    assert rs.blocking == [] and 5 not in {u.line for u in rs.unsupported}
    r18 = next(r for r in rs.chains["FORWARD"].rules if r.origin.endswith(":18"))
    assert r18.unsupported is not None and r18.match.src  # what was understood still bounds the uncertainty


def test_bad_prefix_is_an_input_error_with_file_and_line():
    with pytest.raises(InputError) as exc:
        parse_file(DATA / "bad-prefix.rules")
    assert exc.value.place == "3" and "10.300.0.0/16" in exc.value.message


def test_iptables_needs_a_value_after_an_option():
    with pytest.raises(InputError, match="needs a value"):
        iptables.parse("*filter\n-A FORWARD -s\nCOMMIT\n", "x.rules")


def test_nft_sets_ranges_named_sets_and_verdicts():
    rs = parse_file(DATA / "ruleset.nft")
    fwd = rs.chains["forward"]
    assert (fwd.hook, fwd.policy, fwd.priority) == ("forward", "drop", 0)
    rules = {int(r.origin.rsplit(":", 1)[1]): r for c in rs.chains.values() for r in c.rules}
    assert rules[11].match.dports == (PortRange(502, 502),) and rules[11].match.protocols == (6,)
    assert (rules[12].reject_with, rules[12].match.dports) == ("icmp-host-prohibited", (PortRange(20000, 20010),))
    assert rules[13].action == "return"
    assert [str(n) for n in rules[17].match.src] == ["10.10.5.0/24", "10.10.6.7/32"]
    assert rules[22].match.states == ("ESTABLISHED", "RELATED")
    assert (rules[23].action, rules[23].target) == ("jump", "cell")
    assert rules[24].match.dports == (PortRange(53, 53), PortRange(123, 123))
    assert (rules[26].action, rules[26].target) == ("goto", "mgmt")
    assert len(rules[27].match.src) > 1 and rules[27].match.dports == (PortRange(22, 22),)
    assert (rules[28].match.in_ifaces, rules[28].reject_with) == (("wan*",), "tcp-reset")


def test_nft_reports_unsupported_statements_and_nat_chains():
    rs = parse_file(DATA / "ruleset.nft")
    found = {u.line: u.why for u in rs.unsupported}
    assert "meter" in found[25]
    # the nat chain's masquerade is modelled (test_nat_linux.py): not reported, nothing device-wide
    assert 33 not in found and 34 not in found and rs.blocking == []
    assert [(r.stage, r.action, r.match.out_ifaces) for r in rs.nat] == [("post", "masquerade", ("wan0",))]


def test_nft_unbalanced_braces_are_an_input_error():
    with pytest.raises(InputError, match="missing"):
        nftables.parse("table ip t {\n chain c {\n  accept\n", "x.nft")


def test_format_is_sniffed():
    assert sniff("# x\n*filter\n") == "iptables"
    assert sniff("table inet t {\n}") == "nftables"
    assert sniff("hostname r1\n") == "cisco-ios"
    assert sniff("lorem ipsum\n") is None


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    out = []
    for p in sorted(CORPUS.rglob("*")):
        if p.is_file() and p.suffix not in (".json", ".json-nft", ".md", ".txt"):
            try:
                if sniff(p.read_text(encoding="utf-8")) in ("iptables", "nftables"):
                    out.append(p)
            except UnicodeDecodeError:
                continue
    return out


@pytest.mark.corpus
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_file_parses_or_reports_each_unsupported_construct_with_its_line(path):
    rs = parse_file(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    for u in rs.unsupported:
        assert 1 <= u.line <= len(lines)
        assert u.text.split()[0] in lines[u.line - 1], (u, lines[u.line - 1])
    assert rs.chains or rs.unsupported


@pytest.mark.corpus
def test_corpus_holds_the_iptables_and_nft_files_we_expect():
    names = {p.name for p in corpus_files()}
    assert {"fw1.iptables-save", "fw2.iptables-save", "host1.iptables", "z1-firewall.v4", "aerleon-fw1.nft",
            "aerleon-fw1.iptables-args", "unsupported_command", "0037_set_with_inet_service_0.nft"} <= names
