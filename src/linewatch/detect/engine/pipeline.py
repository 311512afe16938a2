"""The transform layer between parsing and compiling: field-name mapping and placeholder values.

pySigma calls this a processing pipeline. We keep only the two transformations the engine needs and
express them as plain data and functions so a caller can supply them without knowing pySigma:

- a **field mapping** from the names a rule is written with (Sigma taxonomy, Windows native names)
  to the keys of the events we evaluate. It is the identity for evtx-derived Windows events; an OCSF
  pipeline will map e.g. `Image` to `process.file.path`. One Sigma field may map to several event keys,
  in which case the test passes when any of them matches (as pySigma's one-to-many mapping does).
- **placeholders** for the `expand` modifier (`%admins%`, `%domain_controllers%`): per-site lists of
  values, which is where a plant's own context enters shared rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

FieldMapping = Callable[[str], "str | Sequence[str]"]
Placeholders = Mapping[str, "str | Sequence[str]"]


def identity(field: str) -> str:
    """The default mapping: Windows evtx events use the same names as SigmaHQ's Windows rules."""
    return field


def mapping(table: Mapping[str, str | Sequence[str]], *, passthrough: bool = True) -> FieldMapping:
    """A field mapping from a table; unknown names pass through unchanged unless `passthrough=False`,
    in which case they raise KeyError so the rule is reported as using an unmapped field."""

    def mapped(field: str) -> str | Sequence[str]:
        if field in table:
            return table[field]
        if passthrough:
            return field
        raise KeyError(field)

    return mapped


def mapped_fields(mapping_: FieldMapping, field: str) -> tuple[str, ...]:
    """The event keys a rule field reads after mapping, as a tuple (one or more names)."""
    result = mapping_(field)
    if isinstance(result, str):
        return (result,)
    names = tuple(result)
    if not names:
        raise KeyError(field)
    return names


def placeholder_values(placeholders: Placeholders, name: str) -> tuple[str, ...]:
    """The values of one placeholder; a missing one raises KeyError (reported against the rule)."""
    values = placeholders[name]
    return (values,) if isinstance(values, str) else tuple(values)
