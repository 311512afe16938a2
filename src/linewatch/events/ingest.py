"""The ingestion driver: frame a stream, parse each record, and keep going past bad ones.

Plain Python (no Django): it yields events and per-record errors in input order, so the
caller (CLI, HTTP endpoint, syslog listener, MQTT subscriber) decides where they go. A record
the parser cannot read becomes an InputError naming its place; the records around it are
still parsed, and nothing already accepted is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import IO

from linewatch.errors import InputError
from linewatch.events.schema import Event
from linewatch.events.sources import Context, Record, Source

log = logging.getLogger(__name__)


def parse_records(source: Source, records: Iterable[Record], context: Context) -> Iterator[Event | InputError]:
    for record in records:
        try:
            for event in source.parse(record, context):
                if context.site and not event.site:
                    event.site = context.site
                yield event
        except InputError as exc:
            yield exc
        except (ValueError, KeyError, TypeError, IndexError, AttributeError, UnicodeError) as exc:
            # A parser bug or an input shape it did not foresee: report the record, keep going.
            log.debug("parser %s failed at %s", source.name, record.place, exc_info=True)
            yield InputError(context.source_name or source.name, record.place, f"{type(exc).__name__}: {exc}")


def parse_stream(source: Source, stream: IO[bytes], context: Context) -> Iterator[Event | InputError]:
    """Events and errors from a byte stream. A framing error (a corrupt binary file) ends the
    stream with one error, after everything before it."""
    records = source.records(stream, context)
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except InputError as exc:
            yield exc
            return
        except (OSError, ValueError, RuntimeError) as exc:
            yield InputError(context.source_name or source.name, "", f"cannot read further: {exc}")
            return
        yield from parse_records(source, (record,), context)
