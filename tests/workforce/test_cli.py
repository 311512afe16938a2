"""`linewatch workforce offboard | roster | hunt` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linewatch.cli import app
from linewatch.core.models import Person
from linewatch.workforce.models import Credential

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.django_db


def invoke(*args: str):
    return CliRunner().invoke(app, ["workforce", *args])


def test_offboard_prints_the_proven_revocation_report(alpha_beta):
    Credential.objects.create(person=Person.objects.get(key="p-tom"), kind="badge", system="onguard",
                              identifier="51000", issue_code=1)
    result = invoke("offboard", "p-tom", "--reason", "contract ended", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["proven"] and report["proof"]["left"] == 0
    assert {(i["what"], i["site"]) for i in report["revoked"]} == {
        ("credential", "all sites"), ("authorisation", "alpha"), ("affiliation", "alpha")}
    assert report["by"].startswith("cli:")
    assert invoke("offboard", "p-nobody").exit_code == 2


def test_hunt_ranks_cases_from_a_pacs_export(alpha_beta):
    tom = Person.objects.get(key="p-tom")
    Credential.objects.create(person=tom, kind="badge", system="onguard", identifier="51000", issue_code=1,
                              status="lost")
    result = invoke("hunt", "--source", "pacs-lenel", "--site", "alpha", "--timezone", "Europe/Berlin", "--json",
                    str(DATA / "onguard_events.csv"))
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["events"] == 3 and document["rejected"][0]["place"].endswith("5")
    rules = [c["rule"] for c in document["cases"]]
    # the lost card was granted: critical, first; and the control room without a grant
    assert rules[0] == "wf-credential-superseded" and document["cases"][0]["level"] == "critical"
    assert "wf-restricted-area" in rules


def test_roster_command(alpha_beta):
    result = invoke("roster", "--site", "alpha", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    assert invoke("roster", "--site", "nowhere").exit_code == 2


def test_review_open_and_close(alpha_beta):
    result = invoke("review", "open", "--site", "alpha", "--name", "Q4 review", "--days", "0", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["items"] == 1
    closed = invoke("review", "close-due", "--json")
    assert json.loads(closed.stdout)[0]["name"] == "Q4 review"


def test_expire_visits_and_review_reminders_from_the_command_line(alpha_beta):
    import datetime as dt

    from django.utils import timezone

    from linewatch.core.models import Site
    from linewatch.workforce import services
    from linewatch.workforce.models import Visit

    alpha = Site.objects.get(slug="alpha")
    gone = Visit.objects.create(site=alpha, visitor=Person.objects.get(key="p-tom"), purpose="no-show",
                                code="v-cli", expected_start=timezone.now() - dt.timedelta(hours=3),
                                expected_end=timezone.now() - dt.timedelta(hours=1))
    result = invoke("expire-visits", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"visit": "v-cli", "status": "expired"}]
    assert Visit.objects.get(pk=gone.pk).status == "expired"
    from linewatch.response.models import ContactPath

    ContactPath.objects.create(person=Person.objects.get(key="p-anna"), priority=1, url="json://localhost:9/a")
    campaign = services.open_campaign(alpha, "cli review", timezone.now() + dt.timedelta(hours=6), "lead")
    result = invoke("review", "remind-due", "--json")
    assert result.exit_code == 0, result.output
    # 6 h before the deadline: one reminder to Anna (Tom's sponsor); no zone owner, no team path to escalate to
    assert json.loads(result.stdout) == {"reminders": 1, "escalations": 0}
    campaign.refresh_from_db()
    assert campaign.reminders_sent == 2 and campaign.escalated_at is not None
    assert json.loads(invoke("review", "remind-due", "--json").stdout) == {"reminders": 0, "escalations": 0}
