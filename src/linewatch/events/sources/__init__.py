"""Source formats: one module per format, each registering a `Source` subclass by name.

Every source has the same shape (as Home Assistant integrations do): a `name`, a
`description`, `records(stream)` that frames the input into records with their place (a line
number, a record number), and `parse(record, context)` that turns one record into events or
raises `InputError` naming the place. A bad record never stops the stream: the ingestion
driver reports it and goes on. Adding a source never touches the others.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar

from linewatch.errors import InputError
from linewatch.events.schema import Event

SOURCES: dict[str, type[Source]] = {}


@dataclass(frozen=True, slots=True)
class Record:
    """One framed input record and where it was found."""

    place: str  # e.g. "line 12"
    data: Any  # a text line, a decoded JSON object, bytes…


@dataclass
class Context:
    """What a parser may need beyond the record: the site, the input's name, options such as a
    column mapping, and per-stream state (headers of a Zeek log, for example)."""

    source_name: str = ""  # the file or channel, for error messages
    site: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)


class Source(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    formats: ClassVar[tuple[str, ...]] = ()  # what it reads, for `linewatch sources`

    def records(self, stream: IO[bytes], context: Context) -> Iterator[Record]:
        """Frame a byte stream into records. The default: non-blank UTF-8 lines."""
        for number, raw in enumerate(stream, 1):
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                text = line.decode("utf-8", "replace")  # keep the record; the parser decides
            yield Record(f"line {number}", text)

    @abstractmethod
    def parse(self, record: Record, context: Context) -> Iterable[Event]:
        """Events from one record; raise InputError(context.source_name, record.place, why) if it is bad."""

    def error(self, context: Context, record: Record, message: str) -> InputError:
        return InputError(context.source_name or self.name, record.place, message)


def register(cls: type[Source]) -> type[Source]:
    if cls.name in SOURCES and SOURCES[cls.name] is not cls:
        raise ValueError(f"two sources named {cls.name!r}")
    SOURCES[cls.name] = cls
    return cls


def load_all() -> dict[str, type[Source]]:
    """Import every source module of this package so each registers itself."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    return SOURCES


def get(name: str) -> Source:
    load_all()
    try:
        return SOURCES[name]()
    except KeyError:
        raise InputError("source", name, f"unknown source; one of {', '.join(sorted(SOURCES))}") from None
