"""Ingestion as the CLI and the API run it: parse, store in batches, report per record."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any

import msgspec

from linewatch.errors import InputError
from linewatch.events import sources
from linewatch.events.bus import get_bus
from linewatch.events.ingest import parse_records, parse_stream
from linewatch.events.schema import Event, event_uid

BATCH = 1000
MAX_REPORTED_ERRORS = 1000


@dataclass
class IngestReport:
    records_with_errors: int = 0
    events: int = 0
    stored: int = 0
    duplicates: int = 0
    errors: list[InputError] = field(default_factory=list)

    def add_error(self, error: InputError) -> None:
        self.records_with_errors += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)

    def as_dict(self) -> dict[str, Any]:
        return {"events": self.events, "stored": self.stored, "duplicates": self.duplicates,
                "rejected": self.records_with_errors, "errors": [e.as_dict() for e in self.errors]}


def _drain(items: Iterable[Event | InputError], report: IngestReport,
           on_batch: Callable[[IngestReport], None] | None = None) -> list[Event]:
    stored: list[Event] = []
    batch: list[Event] = []

    def flush() -> None:
        result = get_bus().publish(batch)
        report.stored += len(result.stored)
        report.duplicates += result.duplicates
        stored.extend(result.stored)
        batch.clear()
        if on_batch:
            on_batch(report)

    for item in items:
        if isinstance(item, InputError):
            report.add_error(item)
            continue
        report.events += 1
        batch.append(item)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return stored


def ingest_stream(source_name: str, stream: IO[bytes], context: sources.Context,
                  on_batch: Callable[[IngestReport], None] | None = None) -> IngestReport:
    """Parse and store one input; each batch is durable before `on_batch` reports it."""
    source = sources.get(source_name)
    report = IngestReport()
    _drain(parse_stream(source, stream, context), report, on_batch)
    return report


_json = msgspec.json.Decoder()
_event = msgspec.json.Decoder(Event)


def ingest_ndjson(body: bytes, *, default_site: str = "", allowed_site: Callable[[str], bool]) -> dict[str, Any]:
    """The HTTP contract: each line is a raw record plus `source` (a format name) — a JSON
    record with a `source` key, or `{"source": …, "raw": "<text line>"}` — or an already
    normalized event (it has `class_uid`). Answers per line: accepted, duplicate or rejected."""
    results: list[dict[str, Any]] = []
    events: list[tuple[int, Event]] = []
    for number, line in enumerate(body.splitlines(), 1):
        if not line.strip():
            continue
        place = f"line {number}"
        try:
            for event in _events_of_line(line, place, default_site):
                if not allowed_site(event.site):
                    raise InputError("body", place, f"you may not send events for site {event.site!r}")
                events.append((number, event))
        except InputError as exc:
            results.append({"line": number, "status": "rejected", "reason": exc.message})
    stored = {e.uid for e in get_bus().publish([e for _, e in events]).stored} if events else set()
    for number, event in events:
        status = "accepted" if event.uid in stored else "duplicate"
        stored.discard(event.uid)  # a uid twice in one batch: the second is a duplicate
        results.append({"line": number, "status": status, "uid": event.uid})
    results.sort(key=lambda r: r["line"])
    counts = {s: sum(r["status"] == s for r in results) for s in ("accepted", "duplicate", "rejected")}
    return {**counts, "results": results}


def _events_of_line(line: bytes, place: str, default_site: str) -> list[Event]:
    try:
        obj = _json.decode(line)
    except msgspec.DecodeError as exc:
        raise InputError("body", place, f"invalid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InputError("body", place, "each line is a JSON object")
    if "class_uid" in obj:
        obj.setdefault("uid", event_uid("normalized", line))
        try:
            event = _event.decode(msgspec.json.encode(obj))
        except msgspec.ValidationError as exc:
            raise InputError("body", place, f"not a normalized event: {exc}") from None
        if not event.site:
            event.site = default_site
        return [event]
    name = obj.pop("source", None)
    if not isinstance(name, str):
        raise InputError("body", place, "a raw record needs `source` (a format name) or `class_uid`")
    source = sources.get(name)
    site = obj.pop("site", None) or default_site
    raw = obj.pop("raw", None)
    text = raw if isinstance(raw, str) else msgspec.json.encode(obj).decode()
    context = sources.Context(source_name="body", site=site)
    out: list[Event] = []
    for item in parse_records(source, [sources.Record(place, text)], context):
        if isinstance(item, InputError):
            raise item
        out.append(item)
    return out
