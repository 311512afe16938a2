"""Windows event JSON (evtx_dump / PyPI `evtx` shape) flattened to the field names Sigma rules use.

`evtx_dump -o json` and `PyEvtxParser.records_json()` produce
`{"Event": {"System": {...}, "EventData": {...} | "UserData": {...}}}` with XML attributes under
`#attributes` and element text under `#text`. SigmaHQ's Windows rules name fields the way Windows
itself does: `EventID`, `Channel`, `Computer`, `Provider_Name`, and the EventData names (`Image`,
`CommandLine`, `TargetObject`…). So:

- `System` scalars keep their names; attributes become `<Element>_<Attribute>` (`Provider_Name`,
  `TimeCreated_SystemTime`, `Execution_ProcessID`, `Security_UserID`, `EventID_Qualifiers`); an element
  with text and attributes gives its text under its own name (`EventID` for classic-log events);
- `EventData` and `UserData` fields are lifted to the top level (`UserData` has one wrapper element per
  event type, e.g. `LogFileCleared`, whose children are the fields). A name that would overwrite a
  System field is kept as `<Section>_<Name>` instead, so `Channel` always means the event's channel;
- a repeated element (`Data` of classic event logs) becomes a tuple of values: a rule matches it
  when any value matches.

Values keep their JSON types (Sysmon's `ProcessId` stays an int); the engine compares numbers by
their string form and numeric modifiers by value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

_SECTIONS = ("EventData", "UserData", "ProcessingErrorData")


def flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    """One evtx JSON record (with or without the outer `Event` key) as a flat event."""
    event = record.get("Event", record)
    out: dict[str, Any] = {}
    system = event.get("System")
    if isinstance(system, Mapping):
        for name, value in system.items():
            if value.__class__ is str or value.__class__ is int:  # the common case, inline
                out[name] = value
            else:
                _element(out, name, value)
    for section in _SECTIONS:
        body = event.get(section)
        if not isinstance(body, Mapping):
            if body is not None and section == "EventData":
                _put(out, section, _scalar(body), section)
            continue
        if section == "UserData":
            for wrapper, inner in body.items():
                if wrapper == "#attributes":
                    continue
                if isinstance(inner, Mapping):
                    for name, value in inner.items():
                        if name != "#attributes":
                            _field(out, name, value, section)
                else:
                    _field(out, wrapper, inner, section)
        else:
            for name, value in body.items():
                if (value.__class__ is str or value.__class__ is int) and name not in out:
                    out[name] = value  # the common case, inline: a plain field that clashes with nothing
                elif name != "#attributes":
                    _field(out, name, value, section)
    return out


def _scalar(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_scalar(v) for v in value)
    if isinstance(value, Mapping):
        if "#text" in value:
            return _scalar(value["#text"])
        return None
    return value


def _put(out: dict[str, Any], name: str, value: Any, section: str) -> None:
    if value is None:
        return
    if name in out:
        name = f"{section}_{name}"
    out[name] = value


def _field(out: dict[str, Any], name: str, value: Any, section: str) -> None:
    if isinstance(value, Mapping) and "#text" not in value:
        # A nested element without text: lift its children (and attributes) with a name prefix.
        for attr, v in (value.get("#attributes") or {}).items():
            _put(out, f"{name}_{attr}", v, section)
        for child, v in value.items():
            if child != "#attributes":
                _field(out, f"{name}_{child}", v, section)
        return
    _put(out, name, _scalar(value), section)


def _element(out: dict[str, Any], name: str, value: Any) -> None:
    if isinstance(value, Mapping):
        attrs = value.get("#attributes")
        if isinstance(attrs, Mapping):
            for attr, v in attrs.items():
                if v is not None:
                    out[f"{name}_{attr}"] = v
        if "#text" in value:
            out[name] = _scalar(value["#text"])
        for child, v in value.items():
            if child not in ("#attributes", "#text"):
                _element(out, f"{name}_{child}", v)
        return
    if value is not None:
        out[name] = tuple(value) if isinstance(value, list) else value


def iter_json_objects(text: str) -> Iterator[dict[str, Any]]:
    """Objects from a file holding one or several JSON documents back to back (pretty-printed or
    one per line), as SigmaHQ's regression data does; `json.load` would stop at the second one."""
    decoder = json.JSONDecoder()
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return
        obj, i = decoder.raw_decode(text, i)
        yield obj
