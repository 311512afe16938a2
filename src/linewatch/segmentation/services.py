"""Stored firewall configurations: load them for a site's firewall assets, and hand them to the engine.

`load_configs` parses each file (so what is not understood is reported at load time, and a file that is not a
configuration is refused with its place), then stores the text per site and asset; loading the same text again adds
nothing. `stored_mapping(site)` returns the stored current configurations in the shape `plant.load_mapping` returns,
so `segmentation check` and `reach --site` can run on them (the texts are written to the data folder, so rule
origins stay `file:line` with the file name as loaded). `discovery_talkers(site)` hands the conversations passive
discovery stored to flow conformance.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from linewatch.errors import InputError
from linewatch.segmentation.engine.parsers import base_format, parse_text, sniff

DEVICE_KINDS = ("firewall", "router")
HOSTNAME = re.compile(r'^\s*(?:set\s+)?(?:hostname|host-name|system\s+host-name|deviceconfig\s+system\s+hostname|'
                      r'set\s+hostname)\s+"?([A-Za-z0-9_.\-]+)"?;?\s*$', re.M)


@dataclass
class Loaded:
    asset: str
    file: str
    format: str
    digest: str
    created: bool
    unsupported: list[dict] = field(default_factory=list)
    blocking: int = 0

    def as_dict(self) -> dict:
        return {"asset": self.asset, "file": self.file, "format": self.format, "digest": self.digest,
                "stored": "new" if self.created else "unchanged", "unsupported": self.unsupported,
                "blocking": self.blocking}


def hostname_of(text: str) -> str | None:
    """The device's own name in its configuration (IOS/ASA/FortiOS/PAN-OS/Junos), if it states one."""
    m = HOSTNAME.search(text[:200_000])
    return m.group(1) if m else None


def _asset_for(site, name: str | None, path: Path, text: str):
    from linewatch.core.models import Asset

    candidates = [name] if name else [n for n in (hostname_of(text), path.stem) if n]
    for c in candidates:
        a = Asset.objects.filter(site=site, name=c).first()
        if a is not None:
            if a.kind not in DEVICE_KINDS:
                raise InputError(str(path), "", f"asset {c} is a {a.kind}, not a firewall or router")
            return a
    if name:
        raise InputError("--device", name, f"no asset {name!r} at site {site.slug}")
    raise InputError(str(path), "", f"no firewall asset named {' or '.join(repr(c) for c in candidates)} at site "
                     f"{site.slug}: name it with --device ASSET=FILE")


def load_configs(site_slug: str, files: list[tuple[str | None, Path]], fmt: str | None = None,
                 actor=None) -> tuple[list[Loaded], list[InputError]]:
    """Parse and store (asset name or None, file) pairs. Good files are stored even when others are bad."""
    from django.db import transaction

    from linewatch.core import audit
    from linewatch.core.models import Site
    from linewatch.segmentation.models import FirewallConfig

    site = Site.objects.filter(slug=site_slug).first()
    if site is None:
        raise InputError("--site", site_slug, "no such site")
    actor = actor or audit.Actor(name="cli", via="cli")
    loaded: list[Loaded] = []
    errors: list[InputError] = []
    for asset_name, path in files:
        try:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(str(path), "", f"cannot read: {exc}") from None
            try:
                rs = parse_text(text, Path(path).name, fmt)
            except InputError as exc:  # name the file as the user gave it
                raise InputError(str(path), exc.place, exc.message) from None
            asset = _asset_for(site, asset_name, Path(path), text)
        except InputError as exc:
            errors.append(exc)
            continue
        digest = hashlib.sha256(text.encode()).hexdigest()
        unsupported = [u.as_dict() for u in rs.unsupported]
        with transaction.atomic(), audit.acting_as(actor):
            row = FirewallConfig.objects.filter(asset=asset, file_name=Path(path).name, digest=digest).first()
            created = row is None
            if created:
                FirewallConfig.objects.filter(asset=asset, file_name=Path(path).name, current=True).update(
                    current=False)
                FirewallConfig.objects.create(
                    site=site, asset=asset, file_name=Path(path).name, text=text, digest=digest, format=rs.format,
                    loaded_by=actor.name, loaded_by_user=actor.user if getattr(actor.user, "pk", None) else None,
                    unsupported=unsupported, blocking=len(rs.blocking))
            elif not row.current:
                FirewallConfig.objects.filter(asset=asset, file_name=row.file_name, current=True).update(
                    current=False)
                row.current = True
                row.save(update_fields=["current"])
        loaded.append(Loaded(asset.name, Path(path).name, rs.format, digest, created, unsupported, len(rs.blocking)))
    return loaded, errors


def stored_mapping(site_slug: str) -> dict:
    """The site's current stored configurations as a device mapping (the shape `plant.load_mapping` returns)."""
    from linewatch.paths import data_dir
    from linewatch.segmentation.models import FirewallConfig

    devices: dict[str, dict] = {}
    rows = FirewallConfig.objects.filter(site__slug=site_slug, current=True).select_related("asset")
    for row in rows.order_by("asset__name", "file_name"):
        folder = data_dir() / "segmentation" / "configs" / site_slug / row.asset.name / row.digest[:16]
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / row.file_name
        if not target.exists():
            target.write_text(row.text, encoding="utf-8")
        fmt = base_format(row.format)
        if sniff(row.text) != fmt:  # loaded with --format: keep it for the parser
            target.with_name(target.name + ".format").write_text(fmt, encoding="utf-8")
        devices.setdefault(row.asset.name, {"config": []})["config"].append(target)
    return {"site": site_slug, "devices": devices, "source": "database"}


def discovery_talkers(site: str, since: dt.datetime | None = None) -> list[dict]:
    """The conversations passive discovery stored for `site` (`linewatch discover --site S --store`, the demo), those
    seen at or after `since` when given, as talker documents with times in epoch milliseconds, for
    `engine.conformance.flows_from_talkers`."""
    from linewatch.discovery.models import Conversation

    rows = Conversation.objects.filter(site__slug=site)
    if since is not None:
        rows = rows.filter(last_seen__gte=since)

    def ms(t: dt.datetime | None) -> int | None:
        return int(t.timestamp() * 1000) if t else None

    return [{"client": c.client, "server": c.server, "transport": c.transport, "port": c.port, "service": c.service,
             "packets": c.packets, "bytes": c.bytes, "flows": c.flows, "first_seen": ms(c.first_seen),
             "last_seen": ms(c.last_seen)} for c in rows.order_by("client", "server", "transport", "port")]


def discovery_stamp(site: str) -> tuple:
    """Changes whenever the site's stored conversations do (for caching what is computed from them)."""
    from django.db.models import Count, Max, Sum

    from linewatch.discovery.models import Conversation

    agg = Conversation.objects.filter(site__slug=site).aggregate(n=Count("id"), top=Max("id"), last=Max("last_seen"),
                                                                 packets=Sum("packets"))
    return (agg["n"], agg["top"], agg["last"] and agg["last"].isoformat(), agg["packets"])
