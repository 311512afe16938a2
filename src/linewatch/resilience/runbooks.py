"""A site's degraded-mode plan as YAML: its shifts (who is expected on site when — the roll call counts them
even without a badge-in) and its runbooks, one checklist per scenario, each step with an owner (a team slug of
the site, or a role in words), a due time in minutes after the run starts, and whether a photo is required.
Errors name the file, the line and the YAML path; a file is loaded in one transaction, and loading it again
changes nothing.

```yaml
site: kolding
shifts:                             # optional
  - slug: early
    name: Early shift
    schedule: FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=6;BYMINUTE=0;DURATION=PT8H   # site's wall clock
    team: kol-maintenance           # its members are on the shift; and/or
    people: [p-1042]                # person keys
runbooks:
  - slug: power-outage
    title: Power outage: safe stop and manual operation
    scenario: infrastructure        # cyber | physical | natural | infrastructure
    steps:
      - title: Put line 1 fillers in safe stop
        owner: kol-ot-eng           # a team of the site, or free text such as "shift leader"
        due: 10                     # minutes after the run starts
        photo: true                 # optional
        detail: HMI is dark: use the local panel, key switch to STOP.
```
"""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from linewatch.core.models import Site, Team
from linewatch.core.sitefile.loader import Located, load_file
from linewatch.errors import InputError, InputErrors
from linewatch.resilience.models import CrisisKind, Runbook, RunbookStep

DEMO_DIR = Path(__file__).with_name("runbooks_demo")


def _check(doc: Located) -> tuple[Site | None, list[InputError]]:
    errors: list[InputError] = []
    data = doc.data
    if not isinstance(data, dict):
        return None, [doc.error((), "a runbook file is a mapping with `site` and `runbooks`")]
    for key in set(data) - {"site", "runbooks", "shifts"}:
        errors.append(doc.error((key,), f"unknown key {key!r}"))
    site = Site.objects.filter(slug=str(data.get("site", ""))).first()
    if site is None:
        errors.append(doc.error(("site",), f"unknown site {data.get('site')!r}"))
    errors += _check_shifts(doc, site)
    books = data.get("runbooks", [] if "shifts" in data else None)
    if not isinstance(books, list) or (not books and "shifts" not in data):
        errors.append(doc.error(("runbooks",), "`runbooks` must be a non-empty list"))
        return site, errors
    seen: set[str] = set()
    for i, book in enumerate(books):
        at = ("runbooks", i)
        if not isinstance(book, dict):
            errors.append(doc.error(at, "a runbook is a mapping"))
            continue
        for key in set(book) - {"slug", "title", "scenario", "steps"}:
            errors.append(doc.error((*at, key), f"unknown key {key!r}"))
        slug = str(book.get("slug") or "")
        if not slug or not slug.replace("-", "").isalnum() or slug.lower() != slug:
            errors.append(doc.error((*at, "slug"), "slug: lower-case letters, digits and dashes"))
        elif slug in seen:
            errors.append(doc.error((*at, "slug"), f"duplicate runbook {slug!r}"))
        seen.add(slug)
        if not str(book.get("title") or "").strip():
            errors.append(doc.error((*at, "title"), "title is required"))
        if book.get("scenario") not in CrisisKind.values:
            errors.append(doc.error((*at, "scenario"), f"scenario must be one of {', '.join(CrisisKind.values)}"))
        steps = book.get("steps")
        if not isinstance(steps, list) or not steps:
            errors.append(doc.error((*at, "steps"), "`steps` must be a non-empty list"))
            continue
        for j, step in enumerate(steps):
            sat = (*at, "steps", j)
            if not isinstance(step, dict):
                errors.append(doc.error(sat, "a step is a mapping"))
                continue
            for key in set(step) - {"title", "owner", "due", "photo", "detail"}:
                errors.append(doc.error((*sat, key), f"unknown key {key!r}"))
            if not str(step.get("title") or "").strip():
                errors.append(doc.error((*sat, "title"), "title is required"))
            if not str(step.get("owner") or "").strip():
                errors.append(doc.error((*sat, "owner"), "owner is required: a team slug or a role"))
            due = step.get("due")
            if not isinstance(due, int) or isinstance(due, bool) or due < 0:
                errors.append(doc.error((*sat, "due"), "due: whole minutes after the run starts"))
            if "photo" in step and not isinstance(step["photo"], bool):
                errors.append(doc.error((*sat, "photo"), "photo: true or false"))
    return site, errors


def _check_shifts(doc: Located, site: Site | None) -> list[InputError]:
    from linewatch.core.models import Person
    from linewatch.workforce.engine.schedule import parse_schedule

    shifts = doc.data.get("shifts", [])
    if not isinstance(shifts, list):
        return [doc.error(("shifts",), "`shifts` must be a list")]
    errors: list[InputError] = []
    teams = set(Team.objects.filter(organisation=site.organisation).values_list("slug", flat=True)) if site else set()
    keys = set(Person.objects.filter(organisation=site.organisation).values_list("key", flat=True)) if site else set()
    seen: set[str] = set()
    for i, shift in enumerate(shifts):
        at = ("shifts", i)
        if not isinstance(shift, dict):
            errors.append(doc.error(at, "a shift is a mapping"))
            continue
        for key in set(shift) - {"slug", "name", "schedule", "team", "people"}:
            errors.append(doc.error((*at, key), f"unknown key {key!r}"))
        slug = str(shift.get("slug") or "")
        if not slug or not slug.replace("-", "").isalnum() or slug.lower() != slug or slug in seen:
            errors.append(doc.error((*at, "slug"), "slug: lower-case letters, digits and dashes, once per file"))
        seen.add(slug)
        try:
            parse_schedule(str(shift.get("schedule") or ""))
        except ValueError as exc:
            errors.append(doc.error((*at, "schedule"), str(exc)))
        team, people = shift.get("team"), shift.get("people", [])
        if team is not None and site and team not in teams:
            errors.append(doc.error((*at, "team"), f"unknown team {team!r}"))
        if not isinstance(people, list):
            errors.append(doc.error((*at, "people"), "people: a list of person keys"))
            people = []
        for j, key in enumerate(people):
            if site and str(key) not in keys:
                errors.append(doc.error((*at, "people", j), f"unknown person {key!r}"))
        if team is None and not people:
            errors.append(doc.error(at, "a shift needs a team or people"))
    return errors


def load_runbooks(paths: list[str | Path]) -> list[Runbook]:
    """Load runbook files (all checked before anything is written); returns the runbooks written."""
    docs = [load_file(p) for p in paths]
    errors: list[InputError] = []
    checked = []
    for doc in docs:
        site, errs = _check(doc)
        errors += errs
        checked.append((doc, site))
    if errors:
        raise InputErrors(errors)
    loaded = []
    with transaction.atomic():
        for doc, site in checked:
            _store_shifts(site, doc.data.get("shifts", []), doc.source)
            for book in doc.data.get("runbooks", []):
                loaded.append(_store(site, book, doc.source))
    return loaded


def _store_shifts(site: Site, shifts: list[dict], source: str) -> None:
    from linewatch.core.models import Person
    from linewatch.resilience.models import Shift

    teams = {t.slug: t for t in Team.objects.filter(organisation=site.organisation)}
    for item in shifts:
        values = {"name": str(item.get("name") or item["slug"]), "schedule": str(item["schedule"]),
                  "team": teams.get(item.get("team")), "source": source}
        shift = Shift.objects.filter(site=site, slug=item["slug"]).first()
        if shift is None:
            shift = Shift.objects.create(site=site, slug=item["slug"], **values)
        elif any(getattr(shift, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(shift, k, v)
            shift.save()
        people = set(Person.objects.filter(organisation=site.organisation, key__in=[str(k) for k in
                                                                                    item.get("people", [])]))
        if set(shift.people.all()) != people:
            shift.people.set(people)
    Shift.objects.filter(site=site).exclude(slug__in=[s["slug"] for s in shifts]).delete()


def _store(site: Site, book: dict, source: str) -> Runbook:
    runbook, _ = Runbook.objects.get_or_create(site=site, slug=book["slug"], defaults={
        "title": book["title"], "scenario": book["scenario"], "source": source})
    if (runbook.title, runbook.scenario, runbook.source) != (book["title"], book["scenario"], source):
        runbook.title, runbook.scenario, runbook.source = book["title"], book["scenario"], source
        runbook.save()
    teams = {t.slug: t for t in Team.objects.filter(organisation=site.organisation)}
    wanted = []
    for order, step in enumerate(book["steps"], start=1):
        owner = str(step["owner"]).strip()
        values = {"title": step["title"].strip(), "detail": str(step.get("detail") or "").strip(),
                  "owner_team": teams.get(owner), "owner": "" if owner in teams else owner,
                  "due_minutes": step["due"], "photo_required": bool(step.get("photo", False))}
        current = RunbookStep.objects.filter(runbook=runbook, order=order).first()
        if current is None:
            RunbookStep.objects.create(runbook=runbook, order=order, **values)
        elif any(getattr(current, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(current, k, v)
            current.save()
        wanted.append(order)
    # Steps the file no longer lists go, unless a run has completed them (the record stays).
    RunbookStep.objects.filter(runbook=runbook).exclude(order__in=wanted).filter(completions=None).delete()
    return runbook


def demo_files() -> list[Path]:
    return sorted(DEMO_DIR.glob("*.yaml"))
