"""Read a sample file of tests/data/logs through a source, keeping each record's events and errors apart."""

from __future__ import annotations

from pathlib import Path

from linewatch.errors import InputError
from linewatch.events.sources import Context, get

LOGS = Path(__file__).resolve().parent.parent / "data" / "logs"


def read_one_per_record(source_name: str, folder: str, name: str, **options):
    """({place: the record's single event}, [errors]) for a source that makes one event per record."""
    source = get(source_name)
    context = Context(source_name=name, options=options)
    events, errors = {}, []
    with (LOGS / folder / name).open("rb") as stream:
        for record in source.records(stream, context):
            try:
                (events[record.place],) = source.parse(record, context)
            except InputError as exc:
                errors.append(exc)
    return events, errors
