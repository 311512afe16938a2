"""Every configuration in the shared corpus (/work/shared/corpus/segmentation) parses, and each construct it does not
support is reported with its line; every non-blank line of a vendor configuration is accounted for (used, known not
to affect filtering, or reported). Files that are not device configurations are listed with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from linewatch.errors import InputError
from linewatch.segmentation.engine.parsers import parse_file

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "segmentation"
VENDOR = {"cisco-ios", "cisco-asa", "paloalto", "paloalto-set", "paloalto-xml", "fortios", "junos", "junos-set",
          "nft-json"}


def not_a_config(p: Path) -> str | None:
    """Why a corpus file is not a device configuration (None: it is one)."""
    rel = p.relative_to(CORPUS).as_posix()
    if p.suffix in (".md",):
        return "documentation"
    if rel.startswith("batfish/") and p.suffix == ".json":
        return "Batfish host description (interfaces and the path of its iptables file)"
    if p.name.startswith("expected-") or p.name.endswith(".expected.txt"):
        return "measured reachability of the netns oracle"
    if rel.startswith("zeek/"):
        return "Zeek conn.log (flow conformance input)"
    if rel.startswith(("aerleon/def/", "aerleon/includes/")):
        return "Aerleon naming definitions / policy includes"
    return None


def files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and not_a_config(p) is None)


@pytest.mark.corpus
@pytest.mark.parametrize("path", files(), ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_config_parses_or_reports_each_unsupported_construct_with_its_line(path):
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    if path.relative_to(CORPUS).as_posix().startswith("aerleon/pol/"):
        # policies in Aerleon's language, not device configurations: refused at their first line, saying what to do
        with pytest.raises(InputError, match="Aerleon/Capirca policy") as exc:
            parse_file(path)
        assert exc.value.place == "1"
        return
    rs = parse_file(path)
    for u in rs.unsupported:
        assert u.file == str(path) and 1 <= u.line <= len(lines), u
        if rs.format == "nft-json":  # the line where the reported JSON object opens
            assert "{" in lines[u.line - 1], (u, lines[u.line - 1])
            continue
        first = u.text.split()[0] if u.text.split() else ""
        assert first in lines[u.line - 1] or u.text.startswith(("set ", "config ", "edit ")), (u, lines[u.line - 1])
    if rs.format in VENDOR:
        nonblank = {i for i, ln in enumerate(lines, 1) if ln.strip()}
        missing = nonblank - rs.accounted - {u.line for u in rs.unsupported}
        assert not missing, f"lines neither used, ignored as irrelevant, nor reported: {sorted(missing)[:10]}"
    assert rs.chains or rs.unsupported or rs.interfaces or rs.format == "cisco-ios"


@pytest.mark.corpus
def test_corpus_walk_covers_every_vendor_and_every_file():
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is absent")
    every = [p for p in CORPUS.rglob("*") if p.is_file()]
    configs = files()
    skipped = {p.relative_to(CORPUS).as_posix(): not_a_config(p) for p in every if not_a_config(p)}
    assert len(configs) + len(skipped) == len(every)
    assert len(configs) >= 110 and len(skipped) <= 25, skipped
    formats = set()
    for p in configs:
        try:
            formats.add(parse_file(p).format)
        except InputError:
            continue
    assert {"iptables", "nftables", "nft-json", "cisco-ios", "cisco-asa", "fortios"} <= formats
    assert formats & {"paloalto", "paloalto-set"}
