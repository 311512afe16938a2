"""SigmaHQ's Windows rules see our parsed Windows events exactly as they see raw evtx_dump JSON:
the parser keeps the native fields, the pipeline's router and `flat()` route and present them."""

from __future__ import annotations

import io

import msgspec
import pytest

from linewatch.detect.engine.flatten import flatten
from linewatch.detect.engine.ruleset import RuleSet
from linewatch.detect.sigma import flat, router
from linewatch.events import sources
from linewatch.events.ingest import parse_stream
from linewatch.events.schema import Event
from tests.conftest import CORPUS

pytestmark = pytest.mark.corpus


def test_parsed_windows_events_get_the_same_hits_as_raw_records():
    rules = RuleSet.from_paths([CORPUS / "correlation" / "sigmahq-rules" / "rules" / "windows"], router=router())
    lines = (CORPUS / "logs" / "evtx-attack-samples.jsonl").read_bytes().splitlines()[:2000]
    parsed = [e for e in parse_stream(sources.get("windows-json"), io.BytesIO(b"\n".join(lines)), sources.Context())
              if isinstance(e, Event)]
    assert len(parsed) == len(lines)
    ours = [sorted(m.rule_id for m in rules.match(flat(e))) for e in parsed]
    raw = [sorted(m.rule_id for m in rules.match(flatten(msgspec.json.decode(line)))) for line in lines]
    assert ours == raw
    assert sum(map(len, ours)) > 100  # the sample is an attack corpus: the rules do fire
