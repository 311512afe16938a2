"""The JSON Schema of a site file (published as docs/site-schema.json).

Structure and types are checked here; references between objects, duplicate keys and
duplicate addresses are checked by `validate.py`, which knows the database too.
"""

from __future__ import annotations

from typing import Any

from linewatch.core import choices
from linewatch.workforce.choices import TrainingKind, WorkOrderStatus

FORMAT_VERSION = 1

SLUG = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]*$", "maxLength": 100}
TEXT = {"type": "string"}
DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
DATETIME = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$",
    "description": "ISO 8601 with a UTC offset",
}
MONEY = {"type": "number", "minimum": 0}
SERVICE = {
    "type": "string",
    "pattern": r"^(any|icmp|(tcp|udp|sctp)/(\d{1,5})(-\d{1,5})?|(tcp|udp)/any|ip/\d{1,3})$",
    "description": "tcp/502, udp/47808, tcp/8000-8100, tcp/any, icmp, ip/50 or any",
}
RESTRICTED_LEVELS = ["public", "controlled", "restricted", "high_security"]
PURDUE_LEVELS = [0, 1, 2, 3, 3.5, 4, 5]


def _enum(choice_class: Any) -> dict:
    return {"type": "string", "enum": list(choice_class.values)}


def _object(properties: dict, required: list[str] | None = None) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }


def _list(item: dict) -> dict:
    return {"type": "array", "items": item}


DEPENDENCY = _object(
    {
        "name": {"type": "string", "minLength": 1, "description": "Defaults to the member names joined by +"},
        "assets": {**_list({"type": "string"}), "minItems": 1},
        "required": {"type": "integer", "minimum": 1, "description": "Members that must be up (default 1)"},
        "effect": {**_enum(choices.DependencyEffect), "description": "Lines only; default stops"},
        "capacity_loss": {"type": "number", "minimum": 0, "maximum": 1},
    },
    ["assets"],
)

DAY = _object({"date": DATE, "name": {"type": "string", "minLength": 1}}, ["date", "name"])

CALENDAR = {
    **_object(
        {
            "country": {"type": "string", "pattern": "^[A-Z]{2}$",
                        "description": "ISO 3166-1 alpha-2: public holidays from the holidays package, e.g. DE"},
            "subdivision": {"type": "string", "minLength": 1, "maxLength": 16,
                            "description": "The holidays package's subdivision, e.g. NW for North Rhine-Westphalia"},
            "closed": {**_list(DAY), "description": "The plant's own days off: shutdowns, works holidays"},
            "open": {**_list(DAY), "description": "Public holidays the plant works"},
        }
    ),
    "description": "The days the plant is closed: scheduled authorisations do not open on them",
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://linewatch.dev/schemas/site-v1.json",
    "title": "Linewatch site",
    "description": "A whole site as code: network zones, conduits, areas, assets, lines, teams, ownership, people, "
                   "work orders, authorisations, the plant calendar.",
    **_object(
        {
            "linewatch": {"const": FORMAT_VERSION, "description": "Format version"},
            "organisation": _object(
                {"slug": SLUG, "name": TEXT, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}},
                ["slug", "name"],
            ),
            "site": _object(
                {
                    "slug": SLUG,
                    "name": TEXT,
                    "kind": _enum(choices.SiteKind),
                    "timezone": TEXT,
                    "address": TEXT,
                    "latitude": {"type": "number", "minimum": -90, "maximum": 90},
                    "longitude": {"type": "number", "minimum": -180, "maximum": 180},
                    "description": TEXT,
                },
                ["slug", "name", "kind", "timezone"],
            ),
            "calendar": CALENDAR,
            "companies": _list(
                _object(
                    {
                        "slug": SLUG,
                        "name": TEXT,
                        "kind": _enum(choices.CompanyKind),
                        "risk_standing": _enum(choices.Criticality),
                        "contract_expires": DATE,
                        "insurance_expires": DATE,
                    },
                    ["slug", "name", "kind"],
                )
            ),
            "people": _list(
                _object(
                    {
                        "key": SLUG,
                        "name": TEXT,
                        "email": TEXT,
                        "phone": TEXT,
                        "title": TEXT,
                        "company": SLUG,
                        "affiliation": _enum(choices.Affiliation),
                        "sponsor": {**SLUG, "description": "Key of the person who answers for this one"},
                        "valid_from": DATE,
                        "valid_to": DATE,
                    },
                    ["key", "name", "affiliation"],
                )
            ),
            "teams": _list(
                _object(
                    {
                        "slug": SLUG,
                        "name": TEXT,
                        "kind": _enum(choices.TeamKind),
                        "email": TEXT,
                        "phone": TEXT,
                        "company": SLUG,
                        "members": _list(
                            _object({"person": SLUG, "lead": {"type": "boolean"}}, ["person"])
                        ),
                    },
                    ["slug", "name", "kind"],
                )
            ),
            "zones": _list(
                _object(
                    {
                        "slug": SLUG,
                        "name": TEXT,
                        "purdue_level": {"enum": PURDUE_LEVELS},
                        "security_level_target": {"type": "integer", "minimum": 0, "maximum": 4},
                        "cidrs": _list({"type": "string"}),
                        "description": TEXT,
                    },
                    ["slug", "name", "purdue_level"],
                )
            ),
            "conduits": _list(
                _object(
                    {
                        "slug": SLUG,
                        "from": SLUG,
                        "to": SLUG,
                        "services": {**_list(SERVICE), "minItems": 1},
                        "direction": _enum(choices.ConduitDirection),
                        "description": TEXT,
                    },
                    ["slug", "from", "to", "services"],
                )
            ),
            "areas": _list(
                _object(
                    {
                        "slug": SLUG,
                        "name": TEXT,
                        "restricted_level": {"enum": RESTRICTED_LEVELS},
                        "parent": SLUG,
                        "description": TEXT,
                        "requires": {**_list(_enum(TrainingKind)),
                                     "description": "Training everyone entering the area must hold"},
                        "owners": {**_list(SLUG),
                                   "description": "Keys of the people who answer for the area and approve its grants"},
                        "doors": _list(
                            _object(
                                {
                                    "slug": SLUG,
                                    "name": TEXT,
                                    "kind": _enum(choices.DoorKind),
                                    "controller": SLUG,
                                    "readers": _list(SLUG),
                                },
                                ["slug", "name"],
                            )
                        ),
                    },
                    ["slug", "name"],
                )
            ),
            "assets": _list(
                _object(
                    {
                        "name": SLUG,
                        "kind": _enum(choices.AssetKind),
                        "vendor": TEXT,
                        "model": TEXT,
                        "firmware": TEXT,
                        "serial": TEXT,
                        "zone": SLUG,
                        "area": SLUG,
                        "criticality": _enum(choices.Criticality),
                        "description": TEXT,
                        "tags": _list({"type": "string"}),
                        "interfaces": _list(
                            _object(
                                {
                                    "name": {"type": "string", "minLength": 1},
                                    "ip": {"type": "string"},
                                    "mac": {
                                        "type": "string",
                                        "pattern": r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$",
                                    },
                                    "vlan": {"type": "integer", "minimum": 1, "maximum": 4094},
                                },
                                ["name"],
                            )
                        ),
                        "depends_on": _list(DEPENDENCY),
                    },
                    ["name", "kind"],
                )
            ),
            "lines": _list(
                _object(
                    {
                        "slug": SLUG,
                        "name": TEXT,
                        "kind": _enum(choices.LineKind),
                        "area": SLUG,
                        "downtime_cost_per_hour": MONEY,
                        "trucks_per_day": {"type": "integer", "minimum": 0},
                        "perishable_value": MONEY,
                        "hours_to_spoil": {"type": "number", "exclusiveMinimum": 0},
                        "safety_critical": {"type": "boolean"},
                        "description": TEXT,
                        "depends_on": _list(DEPENDENCY),
                    },
                    ["slug", "name"],
                )
            ),
            "ownership": _list(
                _object(
                    {
                        "team": SLUG,
                        "role": _enum(choices.RaciRole),
                        "asset": {**SLUG, "description": "Rule for one asset"},
                        "kind": {**_enum(choices.AssetKind), "description": "Rule for every asset of a kind"},
                    },
                    ["team", "role"],
                )
                | {"not": {"required": ["asset", "kind"]}}
            ),
            "work_orders": _list(
                _object(
                    {
                        "key": SLUG,
                        "title": TEXT,
                        "status": _enum(WorkOrderStatus),
                        "assignee": SLUG,
                        "approved_by": SLUG,
                        "line": SLUG,
                        "assets": _list(SLUG),
                        "starts_at": DATETIME,
                        "ends_at": DATETIME,
                    },
                    ["key", "title", "status", "starts_at", "ends_at"],
                )
            ),
            "authorisations": _list(
                _object(
                    {
                        "person": SLUG,
                        "area": SLUG,
                        "valid_from": DATETIME,
                        "valid_to": DATETIME,
                        "schedule": {"type": "string", "description": "RFC 5545 RRULE, site time zone"},
                        "granted_by": SLUG,
                        "reason": TEXT,
                        "work_order": SLUG,
                    },
                    ["person", "area"],
                )
            ),
        },
        ["linewatch", "organisation", "site"],
    ),
}
