"""Demo data of the resilience domain: the degraded-mode runbooks of the demo plants (loading them
again changes nothing). A drill is then one click on /crises/ or one command away."""

from __future__ import annotations

from linewatch.core.models import Site


def load() -> list[str]:
    from linewatch.resilience.models import RunbookStep, Shift
    from linewatch.resilience.runbooks import demo_files, load_runbooks

    files = [f for f in demo_files() if Site.objects.filter(slug=f.stem).exists()]
    if not files:
        return ["Resilience: no demo plant for the runbooks, skipped"]
    loaded = load_runbooks(files)
    steps = RunbookStep.objects.filter(runbook__in=loaded).count()
    return [f"Resilience: {len(loaded)} degraded-mode runbooks ({steps} steps) at "
            f"{', '.join(sorted({r.site.slug for r in loaded}))}; {Shift.objects.count()} shifts for the roll call",
            "  declare a drill at /crises/ or: linewatch crisis declare --site kolding --type infrastructure "
            "--exercise"]
