"""The engine's topology from the plant model (Django side): zones, firewall/router assets, their configs.

**Which interface faces which zone.** An interface of a firewall or router asset faces the zone whose CIDR contains
its address; the engine gives it that CIDR's prefix (the plant model stores addresses without one). When several
zones' CIDRs contain it, the most specific CIDR wins. An interface whose address falls in no zone CIDR faces nothing
the model knows: it is left out and reported as a finding (SEG-00, medium), as is an interface without an address.
An interface listed as `management` in the mapping (or, by default, one named mgmt/management/oob/ha* when another
interface of the same device faces the same zone) is the device's own address only (a /32): traffic to it is
traffic *to* the firewall, not through it.

**Configurations.** A mapping attaches rule files to firewall assets, either a YAML file

```yaml
site: kolding
devices:
  kol-fw-01:
    config: kol-fw-01.rules          # iptables-save or nft ruleset text, relative to this file (or a list)
    management: [mgmt]               # optional
    routes: [{prefix: 0.0.0.0/0, via: 10.20.10.254}]   # optional; default: see below
  kol-fw-02: {skip: "HA secondary, synchronised configuration"}
```

or `--device ASSET=FILE` arguments. Firewall and router assets of the site without a configuration are not modelled
and reported (info) unless `skip` says why. Without `routes`, a device's default route goes to a router asset of
the site whose address lies in a zone the device faces (the way out to the WAN/Internet).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import yaml

from linewatch.errors import InputError
from linewatch.segmentation.checks import ConduitSpec, Finding, HostSpec, SiteModel, ZoneSpec
from linewatch.segmentation.engine.model import Device, Interface, Route
from linewatch.segmentation.engine.parsers import parse_file
from linewatch.segmentation.engine.reach import Network, Service

DEVICE_KINDS = ("firewall", "router")
MANAGEMENT_NAMES = ("mgmt", "management", "oob", "ha")
DEMO_MAPPINGS = Path(__file__).resolve().parent.parent / "demo" / "firewalls"


def load_mapping(path: str | Path) -> dict:
    """A mapping YAML: {site, devices: {asset: {config, management, routes, skip}}}, config paths made absolute."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(str(path), "", f"cannot read the device mapping: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("devices"), dict):
        raise InputError(str(path), "devices", "a mapping needs a 'devices' dictionary (asset name -> config)")
    devices = {}
    for name, spec in doc["devices"].items():
        spec = {"config": spec} if isinstance(spec, str) else dict(spec or {})
        configs = spec.get("config") or []
        spec["config"] = [path.parent / c for c in ([configs] if isinstance(configs, str) else configs)]
        devices[str(name)] = spec
    return {"site": doc.get("site"), "devices": devices, "source": str(path)}


def mapping_from_args(pairs: list[str]) -> dict:
    """`ASSET=FILE` arguments (repeatable; several files for one asset are all loaded) as a mapping."""
    devices: dict[str, dict] = {}
    for pair in pairs:
        name, sep, file = pair.partition("=")
        if not sep or not name or not file:
            raise InputError("--device", pair, "expected ASSET=FILE")
        devices.setdefault(name, {"config": []})["config"].append(Path(file))
    return {"site": None, "devices": devices, "source": "--device"}


def demo_mapping(site: str) -> Path | None:
    p = DEMO_MAPPINGS / f"{site}.yaml"
    return p if p.exists() else None


def _zone_of(ip: ipaddress.IPv4Address, zones: dict[str, ZoneSpec]) -> tuple[str, ipaddress.IPv4Network] | None:
    best = None
    for slug, z in zones.items():
        for c in z.cidrs:
            n = ipaddress.IPv4Network(c, strict=False)
            if ip in n and (best is None or n.prefixlen > best[1].prefixlen):
                best = (slug, n)
    return best


def build(site_slug: str, mapping: dict) -> SiteModel:
    """The site's zones, conduits, hosts and modelled devices (with their parsed configs) from the database."""
    from linewatch.core.models import Asset, Conduit, Site, Zone

    site = Site.objects.filter(slug=site_slug).first()
    if site is None:
        raise InputError("--site", site_slug, "no such site")
    if mapping.get("site") and mapping["site"] != site_slug:
        raise InputError(mapping.get("source", ""), "site", f"the mapping is for site {mapping['site']!r}")
    zones: dict[str, ZoneSpec] = {}
    findings: list[Finding] = []
    for z in Zone.objects.filter(site=site):
        cidrs = []
        for c in z.cidrs or []:
            try:
                cidrs.append(str(ipaddress.IPv4Network(c, strict=False)))
            except ValueError:
                findings.append(Finding("SEG-00", "info", f"zone {z.slug}: {c!r} is not an IPv4 CIDR (ignored)"))
        zones[z.slug] = ZoneSpec(z.slug, str(z.purdue_level), cidrs, z.name)
    conduits = [ConduitSpec(c.slug, c.from_zone.slug, c.to_zone.slug, list(c.services or []), c.direction)
                for c in Conduit.objects.filter(site=site).select_related("from_zone", "to_zone")]
    for c in conduits:
        for s in c.services:
            try:
                Service.parse(s)
            except ValueError as exc:
                raise InputError(f"conduit {c.slug}", s, str(exc)) from None
    assets = list(Asset.objects.filter(site=site).select_related("zone").prefetch_related("interfaces"))
    host_lines = lines_function()
    hosts = []
    for a in assets:
        ips = []
        for i in a.interfaces.all():
            try:
                if i.ip and ipaddress.ip_address(i.ip).version == 4:
                    ips.append(i.ip)
            except ValueError:
                continue
        hosts.append(HostSpec(str(a.pk), a.name, a.zone.slug if a.zone else None, ips, a.kind,
                              [str(t) for t in a.tags or []], host_lines(a.pk)))
    by_name = {a.name: a for a in assets}
    for name in mapping["devices"]:
        if name not in by_name:
            raise InputError(mapping.get("source", ""), name, f"no asset {name!r} at site {site_slug}")
        if by_name[name].kind not in DEVICE_KINDS:
            raise InputError(mapping.get("source", ""), name, f"asset {name} is a {by_name[name].kind}, not a firewall")
    devices = []
    routers = [a for a in assets if a.kind == "router"]
    for a in assets:
        if a.kind not in DEVICE_KINDS:
            continue
        spec = mapping["devices"].get(a.name)
        if spec is None or spec.get("skip") or not spec.get("config"):
            why = (spec or {}).get("skip")
            if not why:
                findings.append(Finding(
                    "SEG-00", "info", f"{a.kind} {a.name} has no configuration: not modelled",
                    "Attach its rule file with --device ASSET=FILE or the mapping file; paths through it are not seen.",
                    device=a.name))
            continue
        devices.append(_device(a, spec, zones, routers, findings))
    return SiteModel(site.slug, zones, conduits, hosts, devices, findings)


def _device(asset, spec: dict, zones: dict[str, ZoneSpec], routers, findings: list[Finding]) -> Device:
    management = set(spec.get("management") or [])
    faced: dict[str, list[tuple[str, ipaddress.IPv4Address, ipaddress.IPv4Network]]] = {}
    for i in asset.interfaces.all():
        try:
            ip = ipaddress.IPv4Address(i.ip) if i.ip else None
        except ValueError:
            ip = None
        if ip is None:
            findings.append(Finding("SEG-00", "medium", f"{asset.name} interface {i.name} has no IPv4 address",
                                    "It cannot be placed in a zone; rules naming it match nothing.", device=asset.name))
            continue
        hit = _zone_of(ip, zones)
        if hit is None:
            findings.append(Finding(
                "SEG-00", "medium", f"{asset.name} interface {i.name} ({ip}) faces no zone",
                "Its address is in no zone CIDR of the site: a network the plant model does not know (left out).",
                device=asset.name))
            continue
        faced.setdefault(hit[0], []).append((i.name, ip, hit[1]))
    ifaces: dict[str, Interface] = {}
    for _zone, items in faced.items():
        named_mgmt = [x for x in items if x[0] in management or (
            len(items) > 1 and x[0].lower().startswith(MANAGEMENT_NAMES))]
        data = [x for x in items if x not in named_mgmt]
        for name, ip, net in data:
            ifaces[name] = Interface(name, (ipaddress.IPv4Interface(f"{ip}/{net.prefixlen}"),))
        for name, ip, _net in named_mgmt:
            ifaces[name] = Interface(name, (ipaddress.IPv4Interface(f"{ip}/32"),))
    routes = []
    try:
        for r in spec.get("routes") or []:
            routes.append(Route(ipaddress.IPv4Network(r["prefix"], strict=False), r.get("interface"),
                                ipaddress.IPv4Address(r["via"]) if r.get("via") else None))
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(f"mapping {asset.name}", "routes", f"bad route: {exc}") from None
    if not spec.get("routes"):
        nets = [a.network for i in ifaces.values() for a in i.addresses if a.network.prefixlen < 32]
        for rt in routers:
            gw = next((ipaddress.IPv4Address(i.ip) for i in rt.interfaces.all()
                       if i.ip and any(ipaddress.ip_address(i.ip) in n for n in nets)), None)
            if gw is not None:
                routes.append(Route(ipaddress.IPv4Network("0.0.0.0/0"), None, gw))
                break
    rulesets = []
    for c in spec["config"]:
        if not Path(c).exists():
            raise InputError(str(c), "", f"configuration file for {asset.name} not found")
        rulesets.append(parse_file(c))
    return Device(asset.name, asset.kind, ifaces, routes, rulesets)


def lines_function():
    """lines(asset pk): the production lines that asset's loss alone stops or degrades (the consequence graph)."""
    from linewatch.core.services import plant_graph

    graph = plant_graph()

    def lines(pk) -> list[str]:
        return sorted({li.line.name for li in graph.evaluate([str(pk)]).lines
                       if li.status in ("stopped", "degraded")})

    return lines


def zone_matrix(model: SiteModel, service: str | None = None) -> dict[str, dict[str, str]]:
    """Zone-to-zone dispositions for a site from its real configs (firewall addresses excluded)."""
    zones = {z: spec.cidrs for z, spec in model.zones.items() if spec.cidrs}
    return Network(model.devices).zone_matrix(zones, Service.parse(service))


def impact_function(currency: str = "EUR"):
    """consequence() of a set of assets (by primary key), as the one JSON shape."""
    from linewatch.core.models import Asset
    from linewatch.core.services import consequence, consequence_as_dict

    cache: dict[tuple, dict] = {}

    def impact(keys: list[str]) -> dict:
        k = tuple(sorted(keys))
        if k not in cache:
            cache[k] = consequence_as_dict(consequence(Asset.objects.filter(pk__in=[int(x) for x in keys])), currency)
        return cache[k]

    return impact


def site_currency(site_slug: str) -> str:
    from linewatch.core.models import Site

    site = Site.objects.select_related("organisation").filter(slug=site_slug).first()
    return site.organisation.currency if site else "EUR"
