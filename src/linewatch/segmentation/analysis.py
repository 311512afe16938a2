"""Segmentation analyses (Django side): a site's model from the plant model and its firewall configs, checks, the
zone matrix, attack paths with their fixes, and flow conformance, each as the one JSON shape the CLI, the API, the
pages and the demo share. Configurations: a mapping file or ASSET=FILE arguments when given, else the site's stored
configurations (`segmentation load`), else the demo mapping shipped for a demo site."""

from __future__ import annotations

import importlib
from pathlib import Path

from linewatch.errors import InputError
from linewatch.segmentation import checks, plant
from linewatch.segmentation.checks import SiteModel
from linewatch.segmentation.engine import attack


def _stored(site: str) -> dict | None:
    try:
        from linewatch.segmentation.services import stored_mapping
    except ImportError:
        return None
    mp = stored_mapping(site)
    return mp if mp.get("devices") else None


def mapping_for(site: str, mapping: Path | None = None, devices: list[str] | None = None) -> dict:
    """The device mapping: a YAML file, ASSET=FILE arguments, stored configurations, or the demo mapping."""
    if mapping is not None:
        mp = plant.load_mapping(mapping)
        if devices:
            mp["devices"] |= plant.mapping_from_args(devices)["devices"]
        return mp
    if devices:
        return plant.mapping_from_args(devices)
    stored = _stored(site)
    if stored is not None:
        return stored
    demo = plant.demo_mapping(site)
    if demo is None:
        raise InputError("--mapping", "", "give --mapping FILE.yaml or --device ASSET=FILE, or load the site's "
                         "configurations with `linewatch segmentation load`")
    return plant.load_mapping(demo)


def has_configs(site: str) -> bool:
    if plant.demo_mapping(site) is not None:
        return True
    try:
        from linewatch.segmentation.models import FirewallConfig
    except ImportError:
        return False
    return FirewallConfig.objects.filter(site__slug=site, current=True).exists()


def site_model(site: str, mapping: Path | None = None, devices: list[str] | None = None) -> SiteModel:
    return plant.build(site, mapping_for(site, mapping, devices))


# --- vulnerability facts (the vulnerability module, when present) -----------------------------------------
def vulnerability_facts(site: str) -> tuple[dict[str, list[dict]], str]:
    """{asset pk: [{"service": "tcp/445", "id": "CVE-...", "gives": "code"|"control"}]} and where they came from.

    The adapter asks `linewatch.vulns.services.exploitable_services(site_slug)` (same shape); while the
    vulnerability module does not offer it, attack paths use remote-management and industrial services only."""
    try:
        mod = importlib.import_module("linewatch.vulns.services")
    except ImportError:
        return {}, "vulnerability module not available"
    fn = getattr(mod, "exploitable_services", None)
    if fn is None:
        return {}, "vulnerability module offers no exploitable_services()"
    facts = fn(site) or {}
    return {str(k): list(v) for k, v in facts.items()}, "linewatch.vulns"


# --- attack paths -------------------------------------------------------------------------------------------
def resolve_targets(site: str, model: SiteModel, to: str) -> tuple[str, list[str]]:
    """--to LINE (slug or name) | ASSET | ZONE -> (what it is, target host names)."""
    from linewatch.core.models import Line

    line = (Line.objects.filter(site__slug=site, slug=to).first()
            or Line.objects.filter(site__slug=site, name=to).first())
    if line is not None:
        return f"line {line.name}", [h.name for h in model.hosts if line.name in h.lines]
    if any(h.name == to for h in model.hosts):
        return f"asset {to}", [to]
    if to in model.zones:
        return f"zone {to}", [h.name for h in model.hosts if h.zone == to]
    raise InputError("--to", to, f"no line, asset or zone {to!r} at site {site}")


def attack_paths(site: str, from_: str, to: str, k: int = 3, mapping: Path | None = None,
                 devices: list[str] | None = None, model: SiteModel | None = None) -> dict:
    """The k best attack paths from a zone or asset to a line, asset or zone, and the smallest fixes."""
    model = model or site_model(site, mapping, devices)
    what, targets = resolve_targets(site, model, to)
    if from_ not in model.zones and not any(h.name == from_ for h in model.hosts):
        raise InputError("--from", from_, f"no zone or asset {from_!r} at site {site}")
    vulns, vuln_source = vulnerability_facts(site)
    try:
        result = attack.analyse(model, from_, targets, k, vulns)
    except KeyError as exc:
        raise InputError("--from", from_, f"{exc.args[0]} has no IPv4 address in the model") from None
    impact = plant.impact_function(plant.site_currency(site))
    keys = {h.name: h.key for h in model.hosts}
    reached = result.graph.reached

    def consequence(names) -> dict | None:
        return impact([keys[n] for n in names]) if names else None

    def step(u: str, v: str) -> dict:
        d = result.edge(u, v).as_dict()
        d["from"] = result.source.label if u == attack.ATTACKER else u
        return d

    am = result.model
    rules = []
    for origin in result.rules_cut:
        alone = attack.AttackModel(_without_rules(model, [origin]), vulns).solve(result.source, targets, False)
        protected = [t for t in reached if t not in alone.control]
        text, device = _rule_text(model, origin)
        closes = [i + 1 for i, p in enumerate(result.paths)
                  if any(origin in result.edge(u, v).removable for u, v in zip(p, p[1:], strict=False))]
        rules.append({"rule": origin, "text": text, "device": device, "closes_paths": closes,
                      "protects_alone": protected, "protects_alone_consequence": consequence(protected),
                      "breaks_conduits": result.broken.get(origin) or attack.conduits_broken(am.checker, [origin])})
    zone_of = {h.name: h.zone for h in model.hosts}
    return {
        "site": site, "from": from_, "source": result.source.label, "to": to, "target": what,
        "targets": targets, "reached": reached, "consequence": consequence(reached),
        "vulnerabilities": vuln_source,
        "compromised": sorted(result.graph.code), "controlled": sorted(result.graph.control),
        "paths": [{"rank": i + 1, "hosts": p[1:], "zones": [result.source.zone] + [zone_of.get(n) for n in p[1:]],
                   "steps": [step(u, v) for u, v in zip(p, p[1:], strict=False)]}
                  for i, p in enumerate(result.paths)],
        "fix": {
            "hosts": {"harden": result.hosts_cut, "protects": consequence(reached) if result.hosts_cut else None,
                      "note": "hardening (patching, removing remote management, MFA, CIP security) keeps every "
                              "conduit working"},
            "rules": {"remove": rules, "method": result.rules_method, "verified": result.rules_verified,
                      "protects": consequence(reached) if result.rules_verified and rules else None,
                      "breaks_conduits": sorted({c for r in rules for c in r["breaks_conduits"]})},
        },
    }


def _without_rules(model: SiteModel, origins: list[str]) -> SiteModel:
    devices = [attack.device_without(d, origins) for d in model.devices]
    return SiteModel(model.site, model.zones, model.conduits, model.hosts, devices, [], model.internet)


def _rule_text(model: SiteModel, origin: str) -> tuple[str, str]:
    for d in model.devices:
        for rs in d.rulesets:
            for c in rs.chains.values():
                for r in c.rules:
                    if r.origin == origin:
                        return r.text, d.name
    return "", ""


# --- checks and the matrix ----------------------------------------------------------------------------------
def check_report(site: str, model: SiteModel | None = None, matrix: bool = True) -> dict:
    model = model or site_model(site)
    findings = checks.run_checks(model, plant.impact_function(plant.site_currency(site)))
    doc = {
        "site": site,
        "devices": [{"name": d.name, "configs": [rs.source for rs in d.rulesets]} for d in model.devices],
        "counts": {sev: sum(1 for f in findings if f.severity == sev) for sev in checks.SEVERITY_ORDER},
        "findings": [f.as_dict() for f in findings],
        "unsupported": [u.as_dict() for d in model.devices for rs in d.rulesets for u in rs.unsupported],
    }
    if matrix:
        doc["matrix"] = plant.zone_matrix(model)
    return doc


# --- flow conformance ---------------------------------------------------------------------------------------
EVENT_SOURCE = "segmentation-conformance"
ACTIVITY = {"outside-conduit": 1, "bypass": 2, "unknown-path": 3, "insufficient-info": 4}


def conformance_event(site: str, v) -> object:
    """A Segmentation Conformance event (Linewatch extension class 99031004) for one reported flow."""
    from linewatch.events.schema import Event, EventClass, Severity, event_uid
    from linewatch.segmentation.engine.conformance import SEVERITY

    f = v.flow
    sev = {"high": Severity.HIGH, "medium": Severity.MEDIUM, "low": Severity.LOW}.get(SEVERITY[v.kind],
                                                                                   Severity.INFORMATIONAL)
    what = {"outside-conduit": "outside every declared conduit, yet the firewall configs allow it",
            "bypass": "established although the firewall configs deny it (drift, bypass or NAT)",
            "unknown-path": "to or from an address in no zone of the model",
            "insufficient-info": "decided by a firewall construct the engine does not understand"}[v.kind]
    return Event(
        uid=event_uid(EVENT_SOURCE, site, v.kind, f.src, f.dst, str(f.proto), str(f.dport), str(f.time), f.origin),
        time=f.time or 0, class_uid=EventClass.SEGMENTATION_CONFORMANCE, activity_id=ACTIVITY[v.kind],
        severity_id=sev, message=f"{f.service} {f.src} ({v.from_zone or '?'}) -> {f.dst} ({v.to_zone or '?'}): {what}",
        source=EVENT_SOURCE, site=site,
        attrs={"src_endpoint.ip": f.src, "src_endpoint.port": f.sport, "dst_endpoint.ip": f.dst,
               "dst_endpoint.port": f.dport, "connection_info.protocol_num": f.proto},
        unmapped={"segmentation.class": v.kind, "segmentation.from_zone": v.from_zone or "",
                  "segmentation.to_zone": v.to_zone or "", "segmentation.conduits": v.conduits,
                  "segmentation.rule": v.rule, "segmentation.record": f.origin},
    )


def conformance(site: str, files: list[Path], model: SiteModel | None = None, publish: bool = True,
                from_discovery: bool = False, since=None, progress=None) -> dict:
    """Observed flows (files, and with `from_discovery` the conversations discovery stored for the site, those seen
    since `since` when given) against the site's policy; reported flows become events in the pipeline."""
    from linewatch.segmentation.engine.conformance import Conformance, flows_from_talkers, read_flows

    flows, errors = [], []
    for path in files:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(str(path), "", f"cannot read: {exc}") from None
        got, errs = read_flows(data, str(path))
        flows += got
        errors += errs
    talkers = None
    if from_discovery:
        from linewatch.segmentation.services import discovery_talkers

        talkers = discovery_talkers(site, since)
        if not talkers:
            when = f" seen since {since.isoformat()}" if since else ""
            raise InputError("--from-discovery", site, f"discovery has stored no conversations{when} for this site: "
                             f"run `linewatch discover CAPTURE... --site {site} --store` first")
        got, errs = flows_from_talkers(talkers)
        flows += got
        errors += errs
    model = model or site_model(site)
    verdicts, counts = Conformance(checks.Checker(model)).run(flows, progress)
    stored = 0
    if publish and verdicts:
        from linewatch.events.bus import get_bus

        result = get_bus().publish([conformance_event(site, v) for v in verdicts])
        stored = len(getattr(result, "stored", []))
    return {"site": site, "flows": len(flows), "counts": counts, "reported": [v.as_dict() for v in verdicts],
            "events": stored, "errors": [e.as_dict() for e in errors],
            "discovery": None if talkers is None else {"conversations": len(talkers),
                                                       "since": since.isoformat() if since else None}}
