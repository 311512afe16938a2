"""Demo: the Kolding firewall configuration (src/linewatch/demo/firewalls/) against the demo plant: the attack path
from the office to the production line the planted hole exposes, and its smallest fix.

Nothing is stored (the configurations are files read on each run), so a second call adds nothing."""

from __future__ import annotations

DEMO_SITE = "kolding"
DEMO_SOURCE = "office"


def exposed_line(site: str, source: str, model) -> str | None:
    """The most expensive line a direct IT -> control finding from `source` puts at risk."""
    from linewatch.segmentation import checks, plant

    findings = checks.run_checks(model, plant.impact_function(plant.site_currency(site)), ["SEG-01"])
    best = None
    for f in findings:
        if f.from_zone != source:
            continue
        for li in f.lines_at_risk:
            if best is None or li["cost_per_hour"] > best["cost_per_hour"]:
                best = li
    return best["line"] if best else None


def load() -> list[str]:
    from linewatch.core.models import Site
    from linewatch.errors import InputError, InputErrors
    from linewatch.segmentation import analysis, plant
    from linewatch.segmentation.commands import attack_lines

    if plant.demo_mapping(DEMO_SITE) is None or not Site.objects.filter(slug=DEMO_SITE).exists():
        return []
    try:
        model = analysis.site_model(DEMO_SITE)
        line = exposed_line(DEMO_SITE, DEMO_SOURCE, model)
        if line is None:
            return [f"Segmentation ({DEMO_SITE}): no direct path from the {DEMO_SOURCE} to a production line."]
        doc = analysis.attack_paths(DEMO_SITE, DEMO_SOURCE, line, k=2, model=model)
    except (InputError, InputErrors) as exc:  # the demo sites were replaced: nothing to show
        return [f"Segmentation demo skipped: {exc}"]
    return [f"Segmentation ({DEMO_SITE}): " + attack_lines(doc)[0]] + attack_lines(doc)[1:] + [
        f"  see `linewatch attack-paths --site {DEMO_SITE} --from {DEMO_SOURCE} --to '{line}'` and the "
        "Segmentation page"] + dual_homed_lines()


def dual_homed_lines() -> list[str]:
    """SEG-10 needs no firewall configuration: dual-homed assets of every site, from the plant model alone."""
    from linewatch.core.models import Site
    from linewatch.segmentation import checks, plant

    out = []
    for site in Site.objects.order_by("slug").values_list("slug", flat=True):
        model = plant.build(site, {"site": site, "devices": {}, "source": "plant model only"})
        for f in checks.run_checks(model, None, ["SEG-10"]):
            if f.check == "SEG-10":
                out.append(f"Segmentation ({site}): {f.title} (SEG-10, {f.severity}): it bridges them without a "
                           "firewall")
    return out
