"""A small OCSF 1.5.0 validator for tests: schema validation in tests, not per event.

The schema is the OCSF source schema that the `pydantic-ocsf` package ships as JSON
(`ocsf/schemas/v1_5_0.json`): classes and objects with `extends` chains, per-class/object
attribute overrides, and a global `dictionary` of attribute types. Profiles are named there
(`profiles`, `$include`) but their attributes are not, so `PROFILE_ATTRIBUTES` lists them from
the OCSF 1.5.0 profile files; the check is lenient and accepts the attributes of every profile a
class or object lists anywhere on its `extends` chain.

`validate(event)` takes the OCSF JSON of one event (`Event.to_ocsf()`) and returns violations,
each a `Violation(path, why)`. It checks the class (by `class_uid`), `category_uid`/`type_uid`,
`activity_id`, `severity_id`, `status_id` and every other enum, that every attribute exists in
its class or object, recursively, and that scalar values have the right type (ip_t parses as an
address, port_t is an integer 0-65535, integers are not strings, arrays where `is_array`).
`unmapped`, `raw_data` and `metadata.extensions` are not checked.

Linewatch context that detection rules read (documented in docs/formats.md, "OCSF conformance")
may ride on OCSF core classes: the top-level attributes in `LINEWATCH_ATTRIBUTES` and an `asset`
attribute under any object (`dst_endpoint.asset.*`). They are skipped, not validated.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from typing import Any

SCHEMA_PACKAGE = "ocsf"
SCHEMA_FILE = "v1_5_0.json"

# Linewatch extension attributes allowed on OCSF core classes (docs/formats.md, "OCSF conformance").
LINEWATCH_ATTRIBUTES = frozenset({"controller", "access", "door", "reader", "area", "credential", "metric",
                                  "linewatch"})
LINEWATCH_OBJECT_ATTRIBUTES = frozenset({"asset"})  # `<any object>.asset.*`: the Linewatch asset inventory

NOT_CHECKED = frozenset({"unmapped", "raw_data"})
_ENVELOPE_CHECKED = frozenset({"class_uid", "category_uid", "type_uid"})  # against the class, in `validate`

# OCSF 1.5.0 profiles (ocsf-schema/profiles/*.json): the attributes each adds.
PROFILE_ATTRIBUTES: dict[str, frozenset[str]] = {
    "cloud": frozenset({"api", "cloud"}),
    "container": frozenset({"container", "namespace_pid"}),
    "datetime": frozenset(),  # every timestamp_t `x` gains `x_dt`: handled in `_datetime_sibling`
    "host": frozenset({"actor", "device"}),
    "osint": frozenset({"osint"}),
    "security_control": frozenset({"action", "action_id", "attacks", "authorizations", "confidence",
                                   "confidence_id", "confidence_score", "disposition", "disposition_id",
                                   "firewall_rule", "is_alert", "malware", "malware_scan_info", "policy",
                                   "risk_details", "risk_level", "risk_level_id", "risk_score"}),
    "network_proxy": frozenset({"proxy_connection_info", "proxy_endpoint", "proxy_http_request",
                                "proxy_http_response", "proxy_tls", "proxy_traffic"}),
    "load_balancer": frozenset({"load_balancer"}),
    "data_classification": frozenset({"data_classification", "data_classifications"}),
    "trace": frozenset({"trace"}),
    "incident": frozenset({"assignee", "assignee_group", "impact", "impact_id", "impact_score", "is_suspected_breach",
                           "priority", "priority_id", "src_url", "ticket", "tickets", "urgency", "urgency_id"}),
}

_PRIMITIVES = frozenset({"boolean_t", "float_t", "integer_t", "json_t", "long_t", "string_t"})
_MAC = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}([0-9A-Fa-f]{2})$")


@dataclass(frozen=True, slots=True)
class Violation:
    path: str
    why: str

    def __str__(self) -> str:
        return f"{self.path}: {self.why}"


class SchemaMissing(RuntimeError):
    """pydantic-ocsf (the dev dependency that ships the OCSF schema JSON) is not installed."""


@cache
def schema() -> Schema:
    try:
        text = (resources.files(SCHEMA_PACKAGE) / "schemas" / SCHEMA_FILE).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise SchemaMissing(f"the OCSF schema needs the dev dependency pydantic-ocsf ({exc})") from None
    return Schema(json.loads(text))


class Schema:
    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.events: dict[str, dict] = data["events"]
        self.objects: dict[str, dict] = data["objects"]
        self.dictionary: dict[str, dict] = data["dictionary"]["attributes"]
        self.types: dict[str, dict] = data["dictionary"]["types"]["attributes"]
        self.categories = {name: meta["uid"] for name, meta in data["categories_meta"]["attributes"].items()}

    @cached_property
    def classes(self) -> dict[int, str]:
        """class_uid -> class name, for every class with a uid and a category."""
        out = {}
        for name, spec in self.events.items():
            category = self.category_of(name)
            if "uid" in spec and category in self.categories:
                out[self.categories[category] * 1000 + spec["uid"]] = name
        return out

    def category_of(self, name: str) -> str | None:
        for spec in self._chain(self.events, name):
            if spec.get("category"):
                return spec["category"]
        return None

    def category_uid(self, class_name: str) -> int | None:
        return self.categories.get(self.category_of(class_name) or "")

    def _chain(self, section: dict[str, dict], name: str) -> list[dict]:
        """The spec and its ancestors, nearest first."""
        chain, seen = [], set()
        while name and name in section and name not in seen:
            seen.add(name)
            chain.append(section[name])
            name = section[name].get("extends", "")
        return chain

    def class_attributes(self, class_name: str) -> dict[str, dict]:
        return self._attributes("events", class_name)

    def object_attributes(self, object_name: str) -> dict[str, dict]:
        return self._attributes("objects", object_name)

    @cache  # noqa: B019 - one Schema per process
    def _attributes(self, section: str, name: str) -> dict[str, dict]:
        """Attribute name -> merged spec (dictionary entry, then ancestors' overrides, nearest last)."""
        merged: dict[str, dict] = {}
        profiles: set[str] = set()
        for spec in reversed(self._chain(self.data[section], name)):
            profiles.update(spec.get("profiles") or ())
            for attr, override in (spec.get("attributes") or {}).items():
                if attr == "$include":
                    profiles.update(path.rsplit("/", 1)[-1].removesuffix(".json") for path in override)
                    continue
                base = merged.get(attr) or dict(self.dictionary.get(attr, {}))
                merged[attr] = _merge(base, override or {})
        for profile in profiles:
            for attr in PROFILE_ATTRIBUTES.get(profile, ()):
                merged.setdefault(attr, dict(self.dictionary.get(attr, {})))
        if "datetime" in profiles:
            for attr, spec in list(merged.items()):
                if spec.get("type") == "timestamp_t":
                    merged.setdefault(f"{attr}_dt", {"type": "datetime_t"})
        return merged

    def base_type(self, type_name: str) -> str:
        """A scalar type name down to the one the checks know (ip_t, port_t, timestamp_t, or a primitive)."""
        while type_name and type_name not in _PRIMITIVES and type_name not in _CHECKED_TYPES:
            parent = self.types.get(type_name, {}).get("type")
            if not parent:
                break
            type_name = parent
        return type_name


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if key == "enum" and isinstance(out.get("enum"), dict):
            out["enum"] = {**out["enum"], **value}
        else:
            out[key] = value
    return out


def validate(event: dict[str, Any]) -> list[Violation]:
    """Violations of OCSF 1.5.0 in one event's OCSF JSON; empty when it conforms."""
    s = schema()
    out: list[Violation] = []
    class_uid = event.get("class_uid")
    class_name = s.classes.get(class_uid) if isinstance(class_uid, int) else None
    if class_name is None:
        return [Violation("class_uid", f"{class_uid!r} is not an OCSF {s.data.get('version')} class")]
    attributes = s.class_attributes(class_name)
    if event.get("category_uid") != s.category_uid(class_name):
        out.append(Violation("category_uid", f"{event.get('category_uid')!r} but {class_name} is in category "
                                             f"{s.category_uid(class_name)}"))
    activity_id = event.get("activity_id")
    if isinstance(activity_id, int) and event.get("type_uid") != class_uid * 100 + activity_id:
        out.append(Violation("type_uid", f"{event.get('type_uid')!r} is not class_uid * 100 + activity_id"))
    for required in ("activity_id", "severity_id", "time", "metadata"):
        if required not in event:
            out.append(Violation(required, "required and missing"))
    for name, value in event.items():
        if name in NOT_CHECKED or name in _ENVELOPE_CHECKED or name in LINEWATCH_ATTRIBUTES:
            continue
        out.extend(_check(s, attributes, name, value, name, class_name))
    return out


def _check(s: Schema, attributes: dict[str, dict], name: str, value: Any, path: str, owner: str) -> list[Violation]:
    if path == "metadata.extensions":
        return []
    spec = attributes.get(name)
    if spec is None:
        return [Violation(path, f"not an attribute of {owner}")]
    if value is None:
        return []
    type_name = spec.get("type", "")
    if type_name == "object_t":
        type_name = spec.get("object_type", "")
    if spec.get("is_array"):
        if not isinstance(value, list):
            return [Violation(path, f"{type_name} array expected, got {type(value).__name__}")]
        out = []
        for index, item in enumerate(value):
            out.extend(_check_value(s, spec, type_name, item, f"{path}[{index}]"))
        return out
    if isinstance(value, list):
        return [Violation(path, f"a single {type_name} expected, got a list")]
    return _check_value(s, spec, type_name, value, path)


def _check_value(s: Schema, spec: dict, type_name: str, value: Any, path: str) -> list[Violation]:
    if type_name in s.objects:
        if not isinstance(value, dict):
            return [Violation(path, f"object {type_name} expected, got {type(value).__name__} {value!r}")]
        if type_name == "object":  # free-form
            return []
        attributes = s.object_attributes(type_name)
        out = []
        for name, item in value.items():
            if name in LINEWATCH_OBJECT_ATTRIBUTES:
                continue
            out.extend(_check(s, attributes, name, item, f"{path}.{name}", f"object {type_name}"))
        return out
    if type_name == "object":  # `unmapped`-like free-form objects
        return [] if isinstance(value, dict) else [Violation(path, f"object expected, got {value!r}")]
    why = _scalar_problem(s.base_type(type_name), value)
    if why:
        return [Violation(path, f"{type_name}: {why}")]
    enum = spec.get("enum")
    if enum and isinstance(value, int) and not isinstance(value, bool) and str(value) not in enum:
        return [Violation(path, f"{value} not in its enum {sorted(enum, key=_numeric)}")]
    return []


def _numeric(key: str) -> tuple[int, str]:
    return (int(key), "") if key.lstrip("-").isdigit() else (0, key)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ip(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"a string IP address expected, got {type(value).__name__} {value!r}"
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return f"{value!r} is not an IP address"
    return None


def _subnet(value: Any) -> str | None:
    try:
        ipaddress.ip_network(value, strict=False)
    except (TypeError, ValueError):
        return f"{value!r} is not a subnet"
    return None


def _port(value: Any) -> str | None:
    if not _is_int(value) or not 0 <= value <= 65535:
        return f"an integer 0-65535 expected, got {value!r}"
    return None


def _mac(value: Any) -> str | None:
    return None if isinstance(value, str) and _MAC.match(value) else f"{value!r} is not a MAC address"


_CHECKED_TYPES = {"ip_t": _ip, "subnet_t": _subnet, "port_t": _port, "mac_t": _mac}


def _scalar_problem(base: str, value: Any) -> str | None:
    if base in _CHECKED_TYPES:
        return _CHECKED_TYPES[base](value)
    if isinstance(value, dict | list):
        return f"a scalar expected, got {type(value).__name__}"
    if base in ("integer_t", "long_t", "timestamp_t"):
        return None if _is_int(value) else f"an integer expected, got {type(value).__name__} {value!r}"
    if base == "float_t":
        return None if isinstance(value, int | float) and not isinstance(value, bool) else f"a number expected, " \
            f"got {value!r}"
    if base == "boolean_t":
        return None if isinstance(value, bool) else f"a boolean expected, got {value!r}"
    if base == "string_t":
        return None if isinstance(value, str) else f"a string expected, got {type(value).__name__} {value!r}"
    return None  # json_t and anything unknown
