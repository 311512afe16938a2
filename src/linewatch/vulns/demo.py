"""The demo's vulnerability data: the shipped demo feeds, matched against the demo plant's inventory (the plant
model and what the discovery demo saw on the wire, which loads before this). Idempotent: a feed file already
imported (same SHA-256) is not imported again, and matching again changes nothing."""

from __future__ import annotations

from linewatch.core.models import Site


def load() -> list[str]:
    from linewatch.vulns import demo_feeds, services
    from linewatch.vulns.models import FeedImport, Finding

    imported = 0
    for path in demo_feeds():
        if FeedImport.objects.filter(digest=services._digest(path)).exists():
            continue
        services.import_feed(path, actor="demo")
        imported += 1
    runs = services.match_sites(Site.objects.select_related("organisation").order_by("slug"))
    created = sum(r.created for r in runs)
    findings = Finding.objects.filter(active=True).exclude(confidence="possible")
    lines = [f"vulns: {imported} feed files imported, {findings.count()} confirmed or probable findings "
             f"({created} new, possible ones included), {findings.filter(confidence='confirmed').count()} confirmed, "
             f"{findings.filter(kev=True).count()} known exploited"]
    for f in services.ranked(findings.filter(kev=True, confidence="confirmed").select_related("site"))[:3]:
        lines.append(f"  {f.site.slug} {f.subject}: {f.cve} ({f.confidence}, CISA KEV) — {f.exposure}")
    return lines
