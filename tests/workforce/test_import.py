"""Imports from HR, PACS and authorisation exports: each bad row named by file:line, good rows kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linewatch.core.models import Person, SiteAffiliation
from linewatch.errors import InputError
from linewatch.workforce.importers import import_data, parse_mapping
from linewatch.workforce.models import Authorisation, Credential

DATA = Path(__file__).parent / "data"
HR_MAP = {"key": "Employee ID", "name": "Full Name", "email": "E-Mail", "company": "Firm", "site": "Plant",
          "affiliation": "Type", "sponsor": "Sponsor ID", "valid_from": "Start", "valid_to": "End"}
PACS_MAP = {"person": "Cardholder", "identifier": "Card Number", "issue_code": "Issue Code", "kind": "Type",
            "system": "PACS", "replaces": "Replaces", "valid_from": "Activate", "valid_to": "Deactivate",
            "status": "State", "decoy": "Decoy"}


def run(kind: str, name: str, mapping=None):
    path = DATA / name
    return import_data(kind, str(path), path.read_bytes(), mapping)


def reasons(result) -> dict[str, str]:
    return {e.place: e.message for e in result.errors}


@pytest.mark.django_db
def test_hr_export_imports_good_rows_and_names_each_bad_one(alpha_beta):
    result = run("people", "hr_export.csv", HR_MAP)
    assert result.created == 4  # Jana: person + affiliation; Lena: person + affiliation
    bad = reasons(result)
    assert set(bad) == {"line 3", "line 5", "line 6", "line 7", "line 8"}
    assert "needs a sponsor" in bad["line 3"] and "needs a sponsor and an expiry" in bad["line 5"]
    assert "unknown company 'nowhere'" in bad["line 6"]
    assert "unknown site 'gamma'" in bad["line 7"]
    assert "valid_to" in bad["line 8"] and "31.02.2026" in bad["line 8"]
    assert all(e.source.endswith("hr_export.csv") for e in result.errors)
    jana = SiteAffiliation.objects.get(person__key="c-1001")
    assert (jana.kind, jana.sponsor.key, str(jana.valid_to)) == ("contractor", "p-anna", "2026-06-30")
    assert not Person.objects.filter(key__in=["c-1002", "c-1003", "c-1004"]).exists()
    again = run("people", "hr_export.csv", HR_MAP)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)


@pytest.mark.django_db
def test_pacs_export_links_reissued_badges(alpha_beta):
    run("people", "hr_export.csv", HR_MAP)
    result = run("credentials", "pacs_cardholders.json", PACS_MAP)
    bad = reasons(result)
    assert set(bad) == {"item 4", "item 7", "item 8"}
    assert "unknown person 'nobody-here'" in bad["item 4"]
    assert "keycard" in bad["item 7"] and "valid_to is before valid_from" in bad["item 8"]
    old, new = Credential.objects.filter(identifier="48213").order_by("issue_code")
    assert new.replaces == old and old.status == "replaced" and old.status_changed_at == new.valid_from
    assert Credential.objects.get(identifier="51000").status == "lost"
    assert Credential.objects.get(identifier="99999").is_decoy
    assert Credential.objects.get(identifier="tom.fix").kind == "remote_access"


@pytest.mark.django_db
def test_authorisation_lines_are_checked_for_area_schedule_and_expiry(alpha_beta):
    Authorisation.objects.all().delete()
    result = run("authorisations", "authorisations.jsonl")
    bad = reasons(result)
    assert set(bad) == {"line 2", "line 3", "line 4", "line 5"}
    assert "unknown area 'roof'" in bad["line 2"]
    assert "schedule" in bad["line 3"] and "SOMETIMES" in bad["line 3"]
    assert "contractor's authorisation needs an expiry" in bad["line 4"]
    assert "bad JSON" in bad["line 5"]
    assert Authorisation.objects.filter(person__key="p-tom", area__slug="control-room",
                                        work_order__key="wo-100").exists()
    assert Authorisation.objects.filter(person__key="p-anna", area__slug="control-room").exists()


@pytest.mark.django_db
def test_a_missing_required_column_names_the_mapped_column(alpha_beta):
    data = b"who,what\nx,y\n"
    result = import_data("people", "x.csv", data, {"key": "who", "name": "what"})
    assert reasons(result) == {"line 2": "missing site, affiliation (column site, affiliation)"}


def test_mappings_are_read_from_pairs_json_or_a_file(tmp_path):
    assert parse_mapping("key=Employee ID, name=Full Name") == {"key": "Employee ID", "name": "Full Name"}
    assert parse_mapping('{"key": "ID"}') == {"key": "ID"}
    path = tmp_path / "map.yaml"
    path.write_text("key: Personalnummer\nname: Name\n")
    assert parse_mapping(str(path)) == {"key": "Personalnummer", "name": "Name"}
    with pytest.raises(InputError, match="field=column"):
        parse_mapping("key")


@pytest.mark.django_db
def test_an_unknown_field_in_the_mapping_is_refused(alpha_beta):
    with pytest.raises(InputError, match="not fields of people"):
        import_data("people", "x.csv", b"a\n1\n", {"badge": "a"})


@pytest.mark.django_db
def test_cli_import_reports_bad_rows_and_exits_2(alpha_beta):
    from typer.testing import CliRunner

    from linewatch.cli import app

    result = CliRunner().invoke(app, ["workforce", "import", "--kind", "people", "--map", json.dumps(HR_MAP),
                                      "--json", str(DATA / "hr_export.csv")])
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["files"][0]["created"] == 4 and len(document["files"][0]["errors"]) == 5
    assert document["files"][0]["errors"][0]["place"] == "line 3"


@pytest.mark.django_db
def test_broken_csv_rows_are_named_and_the_rest_imported(alpha_beta):
    data = (b"key,name,site,affiliation\n"
            b"e-1,Ada One,alpha,employee\n"
            b"e-2,Bob Two,alpha,employee,surplus\n"
            b'"e-3,"Cy, Three",alpha,employee\n'
            b"e-4,Di Four,alpha,astronaut\n"
            b"e-5,Ed Five,alpha,employee\n")
    result = import_data("people", "hr.csv", data)
    bad = reasons(result)
    assert "more values than the header" in bad["line 3"]
    assert any("astronaut" in m for m in bad.values())
    assert set(Person.objects.filter(key__in=["e-1", "e-5"]).values_list("key", flat=True)) == {"e-1", "e-5"}


def test_a_file_that_is_not_utf8_names_the_byte():
    from linewatch.workforce.importers import read_rows

    with pytest.raises(InputError, match="byte 9"):
        list(read_rows("x.csv", b"key,name\n\xff\xfe,x\n"))


def test_a_broken_json_array_names_the_line():
    from linewatch.workforce.importers import read_rows

    with pytest.raises(InputError, match="line 2"):
        list(read_rows("x.json", b'[{"key": "a"},\n {"key": }]'))
