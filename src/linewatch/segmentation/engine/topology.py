"""A small topology file tying config files to devices, interfaces, routes and zones (until the plant model does).

```yaml
devices:
  - name: fw1
    config: fw1.rules            # iptables-save or nft ruleset text, relative to this file
    interfaces: {corp0: [10.250.1.1/24], dmz0: [10.250.2.1/24]}
    routes: [{prefix: 10.250.3.0/24, via: 10.250.2.2}]
zones: {corp: [10.250.1.0/24], dmz: [10.250.2.0/24]}
```
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import yaml

from linewatch.errors import InputError
from linewatch.segmentation.engine.model import Device, Interface, Route
from linewatch.segmentation.engine.parsers import parse_file


def load(path: str | Path) -> tuple[list[Device], dict[str, list[str]]]:
    path = Path(path)
    src = str(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(src, "", f"cannot read topology: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("devices"), list):
        raise InputError(src, "devices", "a topology needs a 'devices' list")
    devices = []
    for i, d in enumerate(doc["devices"]):
        where = f"devices[{i}]"
        if not isinstance(d, dict) or "name" not in d:
            raise InputError(src, where, "each device needs a name")
        try:
            ifaces = {n: Interface(n, tuple(ipaddress.IPv4Interface(a) for a in (addrs or [])))
                      for n, addrs in (d.get("interfaces") or {}).items()}
            routes = [Route(ipaddress.IPv4Network(r["prefix"], strict=False), r.get("interface"),
                            ipaddress.IPv4Address(r["via"]) if r.get("via") else None) for r in d.get("routes") or []]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(src, where, f"bad interface or route: {exc}") from None
        configs = d.get("config") or []
        configs = [configs] if isinstance(configs, str) else configs
        rulesets = [parse_file(path.parent / c) for c in configs]
        devices.append(Device(str(d["name"]), d.get("kind", "firewall"), ifaces, routes, rulesets))
    zones = {str(z): [str(p) for p in (v if isinstance(v, list) else [v])] for z, v in (doc.get("zones") or {}).items()}
    return devices, zones
