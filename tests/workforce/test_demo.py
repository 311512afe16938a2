"""The demo: people get credentials and training; the simulator's incidents raise the workforce alerts."""

from __future__ import annotations

import pytest

from linewatch.workforce import demo
from linewatch.workforce.models import Credential, Training, Visit


@pytest.mark.django_db
def test_demo_load_is_idempotent_and_the_simulator_exercises_the_detections(demo_loaded):
    lines = demo.load()
    assert lines and "credentials" in lines[0]
    counts = (Credential.objects.count(), Training.objects.count(), Visit.objects.count())
    assert demo.load() == [] and (Credential.objects.count(), Training.objects.count(),
                                  Visit.objects.count()) == counts
    assert Credential.objects.filter(is_decoy=True).count() == 1

    import time

    from linewatch.demo.simulator import Plant, Simulator
    from linewatch.detect.worker import process
    from linewatch.workforce.detector import WorkforcePipelineDetector

    simulator = Simulator(Plant(), seed=3)
    now = int(time.time() * 1000)  # the demo's visit is today
    events = (simulator.contractor_after_work_order(now) + simulator.visitor_wanders_unescorted(now + 1000)
              + simulator.remote_session_into_ot(now + 2000))
    assert len(events) == 3
    detector = WorkforcePipelineDetector()
    found = process(events, [detector])  # enriched as the worker does: the session's target becomes an asset
    found += [d for f in detector.engine.flush() if (d := detector.to_detection(f)) is not None]
    rules = {d.rule_id for d in found}
    assert {"lw-wf-access-outlives-work-order", "lw-wf-training-missing", "lw-wf-visitor-unescorted",
            "lw-wf-remote-no-work-order"} <= rules
    assert all(d.description.startswith("Why: ") for d in found)


@pytest.mark.django_db
def test_demo_pages_render(demo_loaded, client):
    from django.contrib.auth import get_user_model

    demo.load()
    admin = get_user_model().objects.create_superuser("root", password="x" * 16)
    client.force_login(admin)
    page = client.get("/people/ctr-20203/").content.decode()
    assert "wo-2026-1187" in page and "Lockout/tagout" in page and "card-ctr-20203" in page
    access = client.get("/access/").content.decode()
    assert "outlives its work order" in access and "ctr-20203" in access
    for url in ("/people/", "/roster/", "/roster/kolding/", "/reviews/", "/companies/nordcert-audit/"):
        assert client.get(url).status_code == 200, url
