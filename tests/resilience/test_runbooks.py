"""Degraded-mode runbooks load from YAML (errors name file, line and path; loading twice changes
nothing), start with a crisis of their scenario, and each step is completed once with a timestamp,
a note and optionally a photo that goes to the evidence ledger by its hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from PIL import Image

from linewatch.errors import InputErrors
from linewatch.resilience import runbooks, services
from linewatch.resilience.models import Runbook, RunbookStep

from .conftest import NOW

ALPHA = """\
site: alpha
runbooks:
  - slug: power-outage
    title: Power outage at alpha
    scenario: infrastructure
    steps:
      - title: Safe stop line 1 from the local panel
        owner: alpha-ot
        due: 10
      - title: Photograph the generator panel
        owner: facilities duty
        due: 15
        photo: true
"""


@pytest.fixture
def alpha_runbook(alpha_beta, tmp_path):
    path = tmp_path / "alpha.yaml"
    path.write_text(ALPHA)
    runbooks.load_runbooks([path])
    return path


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.django_db
def test_runbook_loads_with_team_owners_and_loading_twice_changes_nothing(alpha_runbook):
    book = Runbook.objects.get(site__slug="alpha", slug="power-outage")
    steps = list(book.steps.all())
    assert [(s.order, s.owner_team.slug if s.owner_team else s.owner, s.due_minutes, s.photo_required)
            for s in steps] == [(1, "alpha-ot", 10, False), (2, "facilities duty", 15, True)]
    from linewatch.core.models import AuditEntry

    before = (AuditEntry.objects.count(), list(RunbookStep.objects.values_list("pk", flat=True)))
    runbooks.load_runbooks([alpha_runbook])
    assert (AuditEntry.objects.count(), list(RunbookStep.objects.values_list("pk", flat=True))) == before


@pytest.mark.django_db
def test_broken_runbook_files_name_file_line_and_path_and_write_nothing(alpha_beta, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("site: nowhere\nrunbooks:\n  - slug: Bad Slug\n    title: x\n    scenario: flood\n"
                   "    steps:\n      - title: step\n        due: soon\n")
    with pytest.raises(InputErrors) as exc:
        runbooks.load_runbooks([bad])
    text = str(exc.value)
    assert f"{bad}:1: site: unknown site 'nowhere'" in text
    assert f"{bad}:3: runbooks[0].slug" in text and f"{bad}:5: runbooks[0].scenario" in text
    assert f"{bad}:8: runbooks[0].steps[0].due" in text and "runbooks[0].steps[0].owner" in text
    assert not Runbook.objects.exists()
    broken = tmp_path / "broken.yaml"
    broken.write_text("site: alpha\nrunbooks: [\n")
    with pytest.raises(Exception, match="YAML syntax error"):
        runbooks.load_runbooks([broken])


@pytest.mark.django_db
def test_a_crisis_starts_its_scenarios_runbook_and_steps_complete_once(alpha_runbook, people):
    from linewatch.core.models import Site
    from linewatch.evidence.models import Entry

    crisis = services.declare(title="Grid failure", kind="infrastructure", sites=[Site.objects.get(slug="alpha")],
                              by="lead", now=NOW, roll_call=False)
    run = crisis.runbook_runs.get()
    first, second = run.runbook.steps.all()
    services.complete_step(run, first, "engineer", note="all fillers stopped", now=NOW + dt.timedelta(minutes=12))
    with pytest.raises(ValueError, match="already done"):
        services.complete_step(run, first, "engineer")
    with pytest.raises(ValueError, match="needs a photo"):
        services.complete_step(run, second, "engineer")
    with pytest.raises(ValueError, match="must be an image"):
        services.complete_step(run, second, "engineer", photo=b"MZ\x90", photo_type="application/x-msdownload")
    photo = jpeg()
    done = services.complete_step(run, second, "guard", note="fuel 80%", photo=photo, photo_type="image/jpeg",
                                  now=NOW + dt.timedelta(minutes=14))
    assert done.photo_sha256 == hashlib.sha256(photo).hexdigest() and bytes(done.photo) == photo
    progress = services.run_progress(run, NOW + dt.timedelta(minutes=20))
    assert (progress["done"], progress["total"], progress["overdue"]) == (2, 2, 0)
    assert progress["steps"][0]["late"]  # done at +12 min, due at +10
    steps = Entry.objects.filter(log__site__slug="alpha", kind="runbook.step").order_by("seq")
    assert steps.count() == 2 and done.photo_sha256 in steps.last().canonical


@pytest.mark.django_db
def test_overdue_steps_are_flagged(alpha_runbook, people):
    from linewatch.core.models import Site

    crisis = services.declare(title="Grid failure", kind="infrastructure", sites=[Site.objects.get(slug="alpha")],
                              by="lead", now=NOW, roll_call=False)
    progress = services.run_progress(crisis.runbook_runs.get(), NOW + dt.timedelta(minutes=11))
    assert [s["overdue"] for s in progress["steps"]] == [True, False]


@pytest.mark.django_db
def test_the_demo_runbooks_load_against_the_demo_sites(demo_loaded):
    loaded = runbooks.load_runbooks(runbooks.demo_files())
    assert {(r.site.slug, r.scenario) for r in loaded} >= {("kolding", "infrastructure"), ("kolding", "cyber"),
                                                           ("rendsburg", "infrastructure")}
    assert RunbookStep.objects.filter(owner_team__isnull=False).count() >= 10


@pytest.mark.django_db
def test_demo_load_is_idempotent_and_says_how_to_declare_a_drill(demo_loaded):
    from linewatch.resilience import demo

    first = demo.load()
    before = list(RunbookStep.objects.order_by("pk").values_list("pk", "title"))
    second = demo.load()
    assert first == second and "linewatch crisis declare" in first[1]
    assert list(RunbookStep.objects.order_by("pk").values_list("pk", "title")) == before
