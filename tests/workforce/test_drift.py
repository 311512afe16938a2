"""Access drift: the PACS and OT account exports against the live authorisations and credentials. Each drift
names its export row and why; bad rows are named and the rest still compared; the exposure raises alerts once."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from linewatch.core.models import Person, Site
from linewatch.detect.models import Alert
from linewatch.workforce.engine.drift import Granted, compare_accounts, compare_pacs
from linewatch.workforce.models import Credential
from linewatch.workforce.services import access_drift, alert_drift

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)  # inside Tom's hall-1 authorisation

PACS = b"""Cardholder,Access level
p-tom,Production hall 1
51000,Control room
99999,hall-1
p-anna,
"""
ACCOUNTS = b"""system,account,person,enabled
hmi,tom.h,p-tom,yes
hmi,anna.h,p-anna,yes
ews,old.op,,yes
ews,spare,,no
"""
MAP = {"person": "Cardholder", "area": "Access level"}


def test_the_engine_tells_each_kind_of_drift_apart():
    people = {"p-tom": "p-tom", "51000": "p-tom", "p-ex": "p-ex"}
    rows = [Granted("pacs.csv:2", "p-tom", "hall-1"), Granted("pacs.csv:3", "51000", "control-room"),
            Granted("pacs.csv:4", "p-ex", "hall-1"), Granted("pacs.csv:5", "77", "hall-1")]
    drift = compare_pacs(rows, {("p-tom", "hall-1"), ("p-tom", "dock")}, people, {"p-ex"}, {"control-room"})
    assert [(d.kind, d.severity, d.person, d.place) for d in drift] == [
        ("unauthorised", "high", "p-tom", "pacs.csv:3"),
        ("orphan_account", "high", "p-ex", "pacs.csv:4"),
        ("orphan_account", "high", "77", "pacs.csv:5"),
        ("not_provisioned", "low", "p-tom", ""),
    ]
    accounts = [Granted("acc.csv:2", "p-tom", system="hmi"), Granted("acc.csv:3", "p-tom", system="ews"),
                Granted("acc.csv:4", "ghost", system="ews"), Granted("acc.csv:5", "ghost", system="ews", enabled=False)]
    found = compare_accounts(accounts, {("p-tom", "hmi")}, people, set())
    assert [(d.kind, d.place) for d in found] == [("account_without_credential", "acc.csv:3"),
                                                  ("orphan_account", "acc.csv:4")]


@pytest.mark.django_db
def test_exports_of_a_site_against_its_authorisations_with_alerts_once(alpha_beta):
    alpha = Site.objects.get(slug="alpha")
    tom = Person.objects.get(key="p-tom")
    Credential.objects.create(person=tom, kind="badge", system="onguard", identifier="51000")
    Credential.objects.create(person=tom, kind="hmi_account", system="hmi", identifier="tom.h")
    drift, bad = access_drift(alpha, [("pacs.csv", PACS)], [("accounts.csv", ACCOUNTS)], MAP, now=NOW)
    assert [(e.source, e.place) for e in bad] == [("pacs.csv", "line 5")]  # p-anna without an area
    found = {(d.kind, d.person, d.place) for d in drift}
    assert ("unauthorised", "p-tom", "pacs.csv:line 3") in found  # his card opens the control room
    assert ("orphan_account", "99999", "pacs.csv:line 4") in found
    assert ("account_without_credential", "p-anna", "accounts.csv:line 3") in found
    assert ("orphan_account", "old.op", "accounts.csv:line 4") in found
    assert not any(d.place == "pacs.csv:line 2" for d in drift)  # Tom's hall-1 access is authorised
    assert not any("spare" in d.what for d in drift)  # disabled accounts are no exposure
    control = next(d for d in drift if d.kind == "unauthorised")
    assert control.severity == "high" and "control-room" in control.what  # a restricted area

    assert alert_drift(alpha, drift, NOW) == 4
    assert Alert.objects.filter(rule_id="lw-wf-access-drift").count() == 2
    assert Alert.objects.filter(rule_id="lw-wf-orphan-account").count() == 2
    assert alert_drift(alpha, drift, NOW) == 0


@pytest.mark.django_db
def test_cli_reports_bad_rows_and_exits_2(alpha_beta, tmp_path):
    from linewatch.workforce.cli import workforce_app

    pacs = tmp_path / "pacs.csv"
    pacs.write_bytes(PACS)
    result = CliRunner().invoke(workforce_app, ["drift", "--site", "alpha", "--pacs", str(pacs), "--map",
                                                "person=Cardholder,area=Access level", "--json"])
    assert result.exit_code == 2
    assert '"kind": "orphan_account"' in result.output and "line 5" in result.output
